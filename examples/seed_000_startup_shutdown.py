"""Advanced Usage > "Application Startup and Shutdown" (docs seed 000-advanced-usage).

On startup maintenance mode is cleared (a crash may have left it on); on
shutdown it is switched on, so other workers sharing ``maintenance_mode.txt``
answer 503 while this one is down.

Run (writes ``maintenance_mode.txt`` in the current directory):

    uv run uvicorn examples.seed_000_startup_shutdown:app

Completed beyond the docs: the ordinary ``GET /`` endpoint. ``@app.on_event``
is deprecated by FastAPI (it still works and warns); the docs use it.
"""

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    configure_backend,
    set_maintenance_mode,
)

# Configure backend
configure_backend("file", file_path="maintenance_mode.txt")

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


@app.on_event("startup")
async def startup_event():
    # Clear any maintenance mode from previous crashes on startup
    await set_maintenance_mode(False)


@app.on_event("shutdown")
async def shutdown_event():
    # Enable maintenance mode during shutdown
    await set_maintenance_mode(True)


# Not in the docs: an ordinary endpoint, blocked while maintenance is on.
@app.get("/")
async def root():
    return {"message": "Hello World"}
