"""Advanced Usage > "Monitoring Maintenance Status" (docs seed 000-advanced-usage).

``GET /api/status`` stays reachable during maintenance (forced off) and
reports whether maintenance mode is on.

Run:

    uv run uvicorn examples.seed_000_monitoring_status:app
    FASTAPI_MAINTENANCE_MODE=1 uv run uvicorn examples.seed_000_monitoring_status:app

    curl localhost:8000/api/status
"""

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    get_maintenance_mode,
)

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


@app.get("/api/status", tags=["monitoring"])
@force_maintenance_mode_off
async def get_status():
    is_maintenance = await get_maintenance_mode()
    if is_maintenance:
        return {
            "status": "maintenance",
            "message": "System is undergoing maintenance",
        }
    else:  # noqa: RET505 (as documented)
        return {
            "status": "operational",
            "message": "All systems operational",
        }
