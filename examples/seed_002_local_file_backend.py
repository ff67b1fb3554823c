"""Context Manager > How It Works With Different Backends > "Local File Backend" (seed 002).

With a writable backend the context manager reads the current state, writes
"on" to ``maintenance_mode.txt`` for the duration of the block (so other
workers reading the file see it too) and writes the original state back when
the block exits.

Run (writes ``maintenance_mode.txt`` in the current directory):

    uv run uvicorn examples.seed_002_local_file_backend:app

    curl -X POST localhost:8000/admin/run-migration

Completed beyond the docs: ``perform_database_migration`` (elided there).
"""

import anyio
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware, maintenance_mode_on
from fastapi_maintenance.backends import LocalFileBackend

# Not in the docs: the contents of maintenance_mode.txt while the migration ran.
state_file_during_migration: list[str] = []


async def perform_database_migration() -> None:
    """Stand-in for the migration the docs elide."""
    state_file_during_migration.append(await anyio.Path("maintenance_mode.txt").read_text())


app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    backend=LocalFileBackend(file_path="maintenance_mode.txt"),
)


@app.post("/admin/run-migration")
async def run_migration():
    async with maintenance_mode_on():
        # The maintenance_mode.txt file is updated to enable maintenance
        await perform_database_migration()
    # When done, the file is restored to its original state
    return {"migration": "completed"}
