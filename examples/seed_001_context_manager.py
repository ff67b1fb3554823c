"""Project description > "Context Manager" (docs seed 001-project-description).

``POST /deploy`` holds maintenance mode on while the deployment runs: other
requests (``/health``, another ``/deploy``) get 503 until it is done.

Run:

    uv run uvicorn examples.seed_001_context_manager:app

    curl -X POST localhost:8000/deploy

Completed beyond the docs: ``perform_deployment`` (elided there).
"""

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    get_maintenance_mode,  # not in the docs: used by perform_deployment below
    maintenance_mode_off,  # noqa: F401 (imported, unused, in the docs too)
    maintenance_mode_on,
)

# Not in the docs: what perform_deployment saw (is maintenance on while it runs?).
maintenance_states_during_deployment: list[bool] = []


async def perform_deployment() -> None:
    """Stand-in for the deployment the docs elide."""
    maintenance_states_during_deployment.append(await get_maintenance_mode())


app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware)


@app.post("/deploy")
async def deploy():
    # Enable maintenance mode during deployment
    async with maintenance_mode_on():
        # Deployment logic here
        await perform_deployment()
    # Maintenance mode is automatically disabled after the block
    return {"status": "deployed"}


@app.get("/health")
def health_check():
    return {"status": "healthy"}
