"""An app in maintenance that exempts some client addresses, for the proxy tests.

``EXEMPT_NETWORKS`` (comma-separated) are exempt; ``TRUSTED_PROXIES``
(comma-separated, may be empty) are the proxies whose ``X-Forwarded-For`` the
exemption itself believes. ``GET /whoami`` answers the client address the app saw.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.exemptions import exempt_client_ips


def _list(name: str) -> list[str]:
    return [item for item in os.environ.get(name, "").split(",") if item]


app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    enable_maintenance=True,
    exempt_handler=exempt_client_ips(
        *_list("EXEMPT_NETWORKS"), trusted_proxies=_list("TRUSTED_PROXIES")
    ),
)


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, str]:
    return {"client": request.client.host if request.client else ""}
