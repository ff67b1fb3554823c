"""A plain ASGI app wrapped in maintenance-core's middleware, no framework."""

import os

from maintenance_core import (
    GenericAdapter,
    LocalFileBackend,
    MaintenanceGuard,
    MaintenanceMiddleware,
)


async def hello(scope, receive, send):  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


guard = MaintenanceGuard(
    adapter=GenericAdapter(),
    backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"], check_interval=0),
)
app = MaintenanceMiddleware(hello, guard)
