"""Raw ASGI scopes wrapped in the core's ``Connection``, as the generic adapter hands them over."""

from __future__ import annotations

from typing import Any

from maintenance_core import Connection


async def _receive() -> dict[str, Any]:
    raise AssertionError("the exemption helpers must not read the body")


async def _send(message: Any) -> None:
    raise AssertionError("the exemption helpers must not send")


def request(
    path: str = "/",
    *,
    root_path: str = "",
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    headers: list[tuple[bytes, bytes]] | None = None,
    raw_path: bytes | None = None,
) -> Connection:
    """A ``Connection`` over an HTTP scope; *path* is ``scope["path"]`` as the server gives it
    (percent-decoded once)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": headers or [],
        "client": client,
    }
    return Connection(scope, _receive, _send)
