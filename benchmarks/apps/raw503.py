"""A raw ASGI app that only sends the maintenance 503: the ceiling of a refusing server.

The same status, headers and body as the middleware's default response (the
end-to-end run checks that they are equal before measuring), built once; no
framework, no decision. ``build()`` takes no variant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

BODY = b'{"detail":"Service temporarily unavailable due to maintenance"}'
HEADERS = (
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"cache-control", b"no-store"),
    (b"retry-after", b"3600"),
)


def build(variant: str = "bare") -> ASGIApp:
    async def raw_503(scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 503, "headers": [*HEADERS]})
        await send({"type": "http.response.body", "body": BODY, "more_body": False})

    return raw_503


app = build()
