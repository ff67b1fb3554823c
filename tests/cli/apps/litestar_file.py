"""A Litestar app with the plugin, configured with a MaintenanceConfig and a file backend."""

import os

from litestar import Litestar, get
from litestar_maintenance import MaintenanceConfig, MaintenancePlugin
from litestar_maintenance.backends import LocalFileBackend


@get("/")
async def index() -> dict[str, str]:
    return {"message": "hello"}


config = MaintenanceConfig(
    backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"], check_interval=0)
)
app = Litestar([index], plugins=[MaintenancePlugin(config=config)])
