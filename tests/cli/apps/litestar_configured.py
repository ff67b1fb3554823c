"""A Litestar app with the plugin and no backend: the one configured at import decides."""

import os

import litestar_maintenance
from litestar import Litestar, get
from litestar_maintenance import MaintenancePlugin

litestar_maintenance.configure_backend("file", file_path=os.environ["CLI_TEST_STATE_FILE"])


@get("/")
async def index() -> dict[str, str]:
    return {"message": "hello"}


app = Litestar([index], plugins=[MaintenancePlugin()])
