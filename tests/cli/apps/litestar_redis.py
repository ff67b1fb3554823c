"""A Litestar app with the plugin and a Redis backend."""

import os

from litestar import Litestar, get
from litestar_maintenance import MaintenanceConfig, MaintenancePlugin
from litestar_maintenance.backends import RedisBackend


@get("/")
async def index() -> dict[str, str]:
    return {"message": "hello"}


config = MaintenanceConfig(backend=RedisBackend(os.environ["CLI_TEST_REDIS_URL"]))
app = Litestar([index], plugins=[MaintenancePlugin(config=config)])
