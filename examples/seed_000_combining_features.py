"""Advanced Usage > "Combining Multiple Features" (docs seed 000-advanced-usage).

A file backend, a custom maintenance response, an exemption handler for
monitoring tools and an admin endpoint that holds maintenance mode on while it
updates the system.

Run (writes ``maintenance_mode.txt`` in the current directory):

    uv run uvicorn examples.seed_000_combining_features:app

    curl -X POST localhost:8000/admin/maintenance/update

Completed beyond the docs: ``perform_update`` (elided there) and the ordinary
``GET /`` endpoint, so the custom maintenance response has a route to show on.
"""

from fastapi import Depends, FastAPI, Request  # noqa: F401 (Depends is unused in the docs too)
from fastapi.responses import JSONResponse
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    configure_backend,
    force_maintenance_mode_off,
    get_maintenance_mode,  # not in the docs: used by perform_update below
    maintenance_mode_on,
)

# Not in the docs: what perform_update saw (is maintenance on while it runs?).
maintenance_states_during_update: list[bool] = []


async def perform_update() -> None:
    """Stand-in for the system update the docs elide."""
    maintenance_states_during_update.append(await get_maintenance_mode())


# Configure a writable backend
configure_backend("file", file_path="maintenance_mode.txt")

app = FastAPI()


# Custom response handler
async def custom_response(request: Request) -> JSONResponse:
    return JSONResponse(
        content={
            "status": "maintenance",
            "message": "We're upgrading our systems. Please try again later.",
            "estimated_completion": "30 minutes",
        },
        status_code=503,
        headers={"Retry-After": "1800"},
    )


# Custom exemption handler
def is_exempt(request: Request) -> bool:
    # Allow monitoring tools
    if request.headers.get("User-Agent", "").startswith("Monitoring"):  # noqa: SIM103 (as documented)
        return True
    return False


# Add middleware with custom handlers
app.add_middleware(
    MaintenanceModeMiddleware,
    response_handler=custom_response,
    exempt_handler=is_exempt,
)


# Admin API with decorator-based exemption
@app.post("/admin/maintenance/update")
@force_maintenance_mode_off
async def update_system():
    async with maintenance_mode_on():
        # Perform system update
        await perform_update()
    return {"status": "updated"}


# Not in the docs: an ordinary endpoint, blocked while maintenance is on.
@app.get("/")
async def root():
    return {"message": "Hello World"}
