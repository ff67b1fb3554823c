"""Project description > Enabling Maintenance Mode > "1. Direct Configuration" (seed 001).

The quick-start app with maintenance mode enabled explicitly when adding the
middleware: every endpoint answers 503, whatever ``FASTAPI_MAINTENANCE_MODE``
says.

Run:

    uv run uvicorn examples.seed_001_enable_maintenance:app

Completed beyond the docs (which show only the ``add_middleware`` line): the
quick-start app around it.
"""

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware

app = FastAPI()

app.add_middleware(MaintenanceModeMiddleware, enable_maintenance=True)


@app.get("/")
def root():
    return {"message": "Hello World"}
