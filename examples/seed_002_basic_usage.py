"""Context Manager > "Basic Usage" (docs seed 002-context-manager).

``POST /admin/sync`` holds maintenance mode on while the data sync runs; other
requests get 503 until it is done, then the previous state comes back.

Run:

    uv run uvicorn examples.seed_002_basic_usage:app

    curl -X POST localhost:8000/admin/sync

Completed beyond the docs: ``perform_sync`` (elided there).
"""

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    get_maintenance_mode,  # not in the docs: for perform_sync
    maintenance_mode_on,
)

# Not in the docs: what perform_sync saw (is maintenance on while it runs?).
maintenance_states_during_sync: list[bool] = []


async def perform_sync() -> None:
    """Stand-in for the data sync the docs elide."""
    maintenance_states_during_sync.append(await get_maintenance_mode())


app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


@app.post("/admin/sync")
async def sync_data():
    # Temporarily enable maintenance mode during data sync
    async with maintenance_mode_on():
        # Data sync logic here
        await perform_sync()
    # When this block finishes, maintenance mode is automatically disabled
    return {"status": "completed"}
