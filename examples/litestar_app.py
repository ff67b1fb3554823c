"""A small Litestar app with maintenance mode.

Run it from the repository root with ``uv run uvicorn examples.litestar_app:app``.

The switch lives in a text file: ``litestar_maintenance_mode.txt`` in the working
directory unless ``LITESTAR_MAINTENANCE_FILE`` names another path. Anything that
writes the file flips it: the admin endpoints below, the CLI
(``litestar-maintenance on --backend file --file-path litestar_maintenance_mode.txt``)
or ``echo 1 > litestar_maintenance_mode.txt``.

While maintenance is on:

* ``GET /`` answers ``503`` with a ``Retry-After`` header;
* ``GET /health`` keeps working (forced off with the decorator);
* everything under ``/admin`` keeps working (the router's ``opt``);
* the OpenAPI docs under ``/schema`` stay reachable, unknown paths still get ``404``.

The admin endpoints have no authentication here; a real app must protect them.
"""

from __future__ import annotations

import os

from litestar import Litestar, Router, get, post
from litestar_maintenance import (
    MaintenancePlugin,
    force_maintenance_mode_off,
    get_maintenance_mode,
    set_maintenance_mode,
)
from litestar_maintenance.backends import LocalFileBackend

STATE_FILE_ENV_VAR = "LITESTAR_MAINTENANCE_FILE"
DEFAULT_STATE_FILE = "litestar_maintenance_mode.txt"

state_file = os.environ.get(STATE_FILE_ENV_VAR) or DEFAULT_STATE_FILE


@get("/")
async def index() -> dict[str, str]:
    return {"message": "Hello from Litestar"}


@force_maintenance_mode_off
@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/maintenance")
async def maintenance_status() -> dict[str, bool]:
    return {"maintenance_mode": await get_maintenance_mode()}


@post("/maintenance/on", status_code=200)
async def maintenance_on() -> dict[str, bool]:
    await set_maintenance_mode(True)
    return {"maintenance_mode": await get_maintenance_mode()}


@post("/maintenance/off", status_code=200)
async def maintenance_off() -> dict[str, bool]:
    await set_maintenance_mode(False)
    return {"maintenance_mode": await get_maintenance_mode()}


admin = Router(
    "/admin",
    route_handlers=[maintenance_status, maintenance_on, maintenance_off],
    opt={"maintenance_mode": "off"},  # every handler below /admin stays reachable
)

app = Litestar(
    route_handlers=[index, health, admin],
    plugins=[MaintenancePlugin(backend=LocalFileBackend(file_path=state_file))],
)
