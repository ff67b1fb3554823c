"""Project description > Quick Start > "Middleware" (docs seed 001-project-description).

Endpoints work normally while maintenance mode is off. With the environment
variable set (Quick Start > "Enabling Maintenance Mode" > 2. Environment
Variables), every endpoint answers 503 with
``{"detail":"Service temporarily unavailable due to maintenance"}``.

Run:

    uv run uvicorn examples.seed_001_quick_start:app

    export FASTAPI_MAINTENANCE_MODE=1
    uv run uvicorn examples.seed_001_quick_start:app
"""

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware

app = FastAPI()

# Add the middleware to your FastAPI application
app.add_middleware(MaintenanceModeMiddleware)


@app.get("/")
def root():
    return {"message": "Hello World"}
