"""Small helpers shared by the FastAPI adapter tests."""

from __future__ import annotations

from typing import Any

import httpx

MAINTENANCE_BODY = {"detail": "Service temporarily unavailable due to maintenance"}


def client(app: Any, *, root_path: str = "") -> httpx.AsyncClient:
    """An httpx client that calls *app* in-process through ASGI."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path=root_path),
        base_url="http://testserver",
    )


def is_maintenance(response: httpx.Response) -> bool:
    """Whether *response* is the default maintenance answer."""
    return (
        response.status_code == 503
        and response.headers.get("retry-after") == "3600"
        and response.json() == MAINTENANCE_BODY
    )
