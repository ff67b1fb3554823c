"""The maintenance response protocol, in plain ASGI messages.

The default answer is ``503`` with ``{"detail": "Service temporarily unavailable
due to maintenance"}``, ``Retry-After: 3600`` and ``Cache-Control: no-store`` (no
cache or proxy keeps the 503 after maintenance ends). A ``HEAD`` request gets the
same status and headers without a body. A websocket handshake is refused with
the same ``503`` where the server supports the ASGI ``websocket.http.response``
extension, else with close code 1013 (try again later).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "DEFAULT_DETAIL",
    "DEFAULT_RETRY_AFTER",
    "READ_ONLY_DETAIL",
    "WEBSOCKET_TRY_AGAIN_LATER",
    "MaintenanceResponse",
    "strip_body",
]

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_DETAIL = "Service temporarily unavailable due to maintenance"
READ_ONLY_DETAIL = "Service is read-only during maintenance: changes are not accepted"
DEFAULT_RETRY_AFTER = 3600
WEBSOCKET_TRY_AGAIN_LATER = 1013
_DENIAL_EXTENSION = "websocket.http.response"


class MaintenanceResponse:
    """A prepared maintenance response, encoded once and sent as raw ASGI messages.

    Args:
        status_code: the HTTP status, 503 by default.
        content: a JSON-serialisable body.
        retry_after: seconds for the ``Retry-After`` header, or ``None`` for none:
            then no ``Retry-After`` is ever sent, not even a window's countdown.

    Every response carries ``Cache-Control: no-store``, as the HTML page does.
    """

    def __init__(
        self,
        status_code: int = 503,
        content: Any = None,
        retry_after: int | None = DEFAULT_RETRY_AFTER,
    ) -> None:
        if content is None:
            content = {"detail": DEFAULT_DETAIL}
        self.status_code = status_code
        self.body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode("latin-1")),
            (b"cache-control", b"no-store"),
        ]
        self.retry_after = None if retry_after is None else int(retry_after)
        if self.retry_after is not None:
            headers.append((b"retry-after", str(self.retry_after).encode("latin-1")))
        self.headers: tuple[tuple[bytes, bytes], ...] = tuple(headers)

    def headers_for(self, retry_after: int | None) -> list[tuple[bytes, bytes]]:
        """A fresh header list, with ``Retry-After`` set to *retry_after* when given."""
        if retry_after is None or self.retry_after is None or retry_after == self.retry_after:
            # Fresh lists: outer middleware such as CORS edit them in place.
            return [*self.headers]
        value = str(retry_after).encode("latin-1")
        return [(name, value if name == b"retry-after" else v) for name, v in self.headers]

    async def __call__(self, scope: Message, receive: Any, send: Send) -> None:
        """Send this response as an ASGI app (HTTP)."""
        await self.send_http(scope, send)

    async def send_http(self, scope: Message, send: Send, retry_after: int | None = None) -> None:
        """Send the response to an HTTP request (no body for ``HEAD``).

        Args:
            retry_after: seconds for ``Retry-After`` instead of the prepared
                value (the time left in a maintenance window).
        """
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.headers_for(retry_after),
            }
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def refuse_websocket(
        self, scope: Message, send: Send, retry_after: int | None = None
    ) -> None:
        """Refuse a websocket handshake with this response, or close code 1013."""
        if _DENIAL_EXTENSION in (scope.get("extensions") or {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": self.status_code,
                    "headers": self.headers_for(retry_after),
                }
            )
            await send(
                {"type": "websocket.http.response.body", "body": self.body, "more_body": False}
            )
        else:
            await send({"type": "websocket.close", "code": WEBSOCKET_TRY_AGAIN_LATER, "reason": ""})


def strip_body(send: Send) -> Send:
    """Wrap *send* so that a response goes out with its headers and an empty body (``HEAD``)."""

    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_headers_only
