"""Advanced Usage > "Dependency Injection with Maintenance Status" (docs seed 000).

Dependencies that read the maintenance state. Note what really happens with
this example as written: the app also has MaintenanceModeMiddleware, which
answers every route with its own 503 (``{"detail": "Service temporarily
unavailable due to maintenance"}``) while maintenance is on, before any
dependency runs. So over HTTP ``GET /status`` answers either
``{"maintenance_mode": false}`` or the middleware's 503, never
``{"maintenance_mode": true}``, and ``POST /api/important`` gets the
middleware's 503, not the dependency's "Service is in maintenance mode". The
dependencies only decide for requests the middleware lets through.

Run (reads ``maintenance_mode.txt`` in the current directory):

    uv run uvicorn examples.seed_000_dependency_injection:app

    curl localhost:8000/status; curl -X POST localhost:8000/api/important
"""

from fastapi import Depends, FastAPI, HTTPException
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    configure_backend,
    get_maintenance_mode,
)

configure_backend("file", file_path="maintenance_mode.txt")

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


async def maintenance_status():
    return await get_maintenance_mode()


async def require_maintenance_off():
    if await get_maintenance_mode():
        raise HTTPException(status_code=503, detail="Service is in maintenance mode")
    return False


@app.get("/status")
async def status(is_maintenance: bool = Depends(maintenance_status)):
    return {"maintenance_mode": is_maintenance}


@app.post("/api/important")
async def important_action(_: bool = Depends(require_maintenance_off)):
    return {"message": "Important action completed"}
