"""A Litestar app with the middleware added by hand (no plugin)."""

import os

from litestar import Litestar, get
from litestar_maintenance import MaintenanceModeMiddleware
from litestar_maintenance.backends import LocalFileBackend


@get("/")
async def index() -> dict[str, str]:
    return {"message": "hello"}


app = Litestar(
    [index],
    middleware=[
        MaintenanceModeMiddleware(backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"]))
    ],
)
