"""Maintenance mode for any ASGI app, without a framework adapter.

Give :class:`GenericAdapter` a function that finds the handler a scope will
reach, and the core does the rest: markers set with the decorators on that
handler, the precedence, overrides and the response protocol. Handlers given
as ``exempt_handler``/``response_handler`` receive a :class:`Connection`; a
``response_handler`` returns any ASGI callable, such as a :class:`MaintenanceResponse`.

::

    routes = {("GET", "/"): index, ("GET", "/health"): health}

    def find_handler(scope):
        return routes.get((scope.get("method", "WEBSOCKET"), scope["path"]))

    app = MaintenanceMiddleware(
        app, MaintenanceGuard(adapter=GenericAdapter(find_handler), backend=MemoryBackend())
    )
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .decision import NO_ROUTE, PLAIN_ROUTE, RouteInfo
from .markers import ForcedMode, forced_mode_of
from .middleware import Receive, Scope, Send

__all__ = ["Connection", "GenericAdapter"]

_FORCED_ON = RouteInfo(exists=True, forced=ForcedMode.ON)
_FORCED_OFF = RouteInfo(exists=True, forced=ForcedMode.OFF)


class Connection:
    """The request handed to handlers by :class:`GenericAdapter`.

    Attributes:
        scope, receive, send: the ASGI triple.
        method: the HTTP method (``"WEBSOCKET"`` for a websocket handshake).
        path: the request path.
        headers: header names (lower case) to values; the last one wins when repeated.
        client: the client's ``(host, port)``, if the server gave it.
    """

    __slots__ = ("client", "headers", "method", "path", "receive", "scope", "send")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.method: str = scope.get("method", "WEBSOCKET")
        self.path: str = scope.get("path", "")
        self.headers: dict[str, str] = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        self.client: tuple[str, int] | None = scope.get("client")


class GenericAdapter:
    """The adapter for ASGI apps that no framework adapter covers.

    Args:
        find_handler: returns the handler object a scope reaches, or ``None``
            when no route serves it (the request then proceeds, for the app's own
            404/405). Without it every request counts as reaching a route
            without marker.
    """

    def __init__(self, find_handler: Callable[[Scope], object | None] | None = None) -> None:
        self._find_handler = find_handler

    def resolve_route(self, scope: Scope) -> RouteInfo:
        if self._find_handler is None:
            return PLAIN_ROUTE
        handler = self._find_handler(scope)
        if handler is None:
            return NO_ROUTE
        forced = forced_mode_of(handler)
        if forced is ForcedMode.ON:
            return _FORCED_ON
        if forced is ForcedMode.OFF:
            return _FORCED_OFF
        return PLAIN_ROUTE

    def connection(self, scope: Scope, receive: Receive, send: Send) -> Connection:
        return Connection(scope, receive, send)

    def is_response(self, value: object) -> bool:
        return callable(value)

    async def send_response(
        self, response: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        await response(scope, receive, send)
