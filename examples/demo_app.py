"""A small FastAPI app that shows maintenance mode at work.

Run it with ``./scripts/demo`` (or ``uv run uvicorn demo_app:app --app-dir examples``).

The maintenance switch lives in a text file, ``demo_maintenance_mode.txt`` in the
working directory unless ``DEMO_MAINTENANCE_FILE`` names another path. Anything
that writes that file flips the switch for every worker: the admin endpoints
below, the CLI (``fastapi-maintenance on --backend file --file-path ...``) or
plain ``echo 1 > demo_maintenance_mode.txt``.

While maintenance is on:

* ``GET /`` and ``GET /items/{item_id}`` answer ``503`` with a ``Retry-After`` header;
* ``GET /health`` and the ``/admin/maintenance`` endpoints keep working (forced off);
* ``/docs``, ``/redoc`` and ``/openapi.json`` stay reachable;
* unknown paths still get ``404``.

``GET /legacy`` is forced on: it always answers ``503``.

Operator features:

* ``POST /admin/maintenance/on?minutes=5`` schedules a five-minute window: the
  ``Retry-After`` header counts down and maintenance switches itself off at its end;
* the team passes with the header ``X-Maintenance-Bypass: <secret>``, or by opening
  any page once with ``?maintenance_bypass=<secret>`` in a browser (a cookie is set).
  The secret is ``DEMO_BYPASS_SECRET`` (a fixed demo value unless set);
* browsers get an HTML maintenance page, API clients the documented JSON.

The admin endpoints have no authentication here; a real app must protect them.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    get_maintenance_mode,
    set_maintenance_mode,
)
from fastapi_maintenance.backends import LocalFileBackend
from fastapi_maintenance.responses import maintenance_page

STATE_FILE_ENV_VAR = "DEMO_MAINTENANCE_FILE"
DEFAULT_STATE_FILE = "demo_maintenance_mode.txt"
BYPASS_SECRET_ENV_VAR = "DEMO_BYPASS_SECRET"
# For the demo only: a real deployment reads a random secret from its environment.
DEFAULT_BYPASS_SECRET = "demo-team-secret-not-for-production"

state_file = os.environ.get(STATE_FILE_ENV_VAR) or DEFAULT_STATE_FILE
backend = LocalFileBackend(file_path=state_file)

app = FastAPI(
    title="fastapi-maintenance demo",
    description=(
        "Turn maintenance on with `POST /admin/maintenance/on`, then call `GET /`. "
        f"The state is stored in `{state_file}`."
    ),
)
app.add_middleware(
    MaintenanceModeMiddleware,
    backend=backend,
    bypass_secret=os.environ.get(BYPASS_SECRET_ENV_VAR) or DEFAULT_BYPASS_SECRET,
    response_handler=maintenance_page(
        title="The demo is down for maintenance",
        message="We are trying out maintenance mode. Please come back soon.",
        refresh=30,
    ),
)


@app.get("/")
async def root() -> dict[str, str]:
    """A normal endpoint: ``503`` while maintenance is on."""
    return {"message": "Hello from the demo app"}


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    """Another normal endpoint, with a path parameter."""
    return {"item_id": item_id}


@app.get("/health")
@force_maintenance_mode_off
async def health() -> dict[str, str]:
    """Always reachable, so load balancers keep the instance in rotation."""
    return {"status": "ok"}


@app.get("/legacy")
@force_maintenance_mode_on
async def legacy() -> dict[str, str]:
    """Always answers with the maintenance response."""
    return {"message": "never sent"}


async def _status() -> dict[str, object]:
    # Without a backend argument the module-level functions use the backend of the
    # middleware serving this request, here the file backend above.
    return {"maintenance_mode": await get_maintenance_mode(), "state_file": state_file}


@app.get("/admin/maintenance")
@force_maintenance_mode_off
async def maintenance_status() -> dict[str, object]:
    """Whether maintenance mode is on."""
    return await _status()


@app.post("/admin/maintenance/on")
@force_maintenance_mode_off
async def maintenance_on(minutes: int | None = None) -> dict[str, object]:
    """Turn maintenance mode on (writes the state file), for ``minutes`` if given."""
    if minutes is None:
        await set_maintenance_mode(True)
    else:
        end = datetime.now(timezone.utc) + timedelta(minutes=minutes)
        await set_maintenance_mode(True, end=end)
    return await _status()


@app.post("/admin/maintenance/off")
@force_maintenance_mode_off
async def maintenance_off() -> dict[str, object]:
    """Turn maintenance mode off (writes the state file)."""
    await set_maintenance_mode(False)
    return await _status()
