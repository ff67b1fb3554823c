"""Project description > "Decorators" (docs seed 001-project-description).

``/status`` stays reachable during maintenance (forced off); ``/deprecated``
always answers the maintenance 503 (forced on).

Run:

    uv run uvicorn examples.seed_001_decorators:app
    FASTAPI_MAINTENANCE_MODE=1 uv run uvicorn examples.seed_001_decorators:app
"""

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


# Always accessible, even during maintenance
@app.get("/status")
@force_maintenance_mode_off
def status():
    return {"status": "operational"}


# Always returns maintenance response
@app.get("/deprecated")
@force_maintenance_mode_on
async def deprecated_endpoint():
    return {"message": "This endpoint is deprecated"}
