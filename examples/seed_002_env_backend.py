"""Context Manager > How It Works With Different Backends > "Environment Variable Backend".

(docs seed 002-context-manager) The default backend reads the read-only
``FASTAPI_MAINTENANCE_MODE`` environment variable. The context manager still
turns maintenance on for the duration of the block, through an in-memory
override; the environment variable itself is never modified.

Run:

    uv run uvicorn examples.seed_002_env_backend:app

    curl -X POST localhost:8000/admin/update

Completed beyond the docs: ``perform_update`` (elided there).
"""

import os

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    get_maintenance_mode,  # not in the docs: for perform_update
    maintenance_mode_on,
)

# Not in the docs: what perform_update saw: the maintenance state and the
# environment variable, while the update ran.
observed_during_update: list[tuple[bool, str | None]] = []


async def perform_update() -> None:
    """Stand-in for the system update the docs elide."""
    observed_during_update.append(
        (await get_maintenance_mode(), os.environ.get("FASTAPI_MAINTENANCE_MODE"))
    )


# Using default environment variable backend
app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


@app.post("/admin/update")
async def update_system():
    # Even though environment variables can't be changed at runtime,
    # this still works using an in-memory override
    async with maintenance_mode_on():
        # System enters maintenance mode
        await perform_update()
    # Maintenance mode is disabled when the context exits
    return {"update": "completed"}
