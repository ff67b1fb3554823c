"""The Starlette/FastAPI side of the core's adapter protocol."""

from __future__ import annotations

from typing import Any

from maintenance_core.adapter import Adapter, Receive, RouteInfo, Scope, Send
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from ._routing import RouteResolver

__all__ = ["StarletteAdapter"]


class StarletteAdapter(Adapter):
    """Route lookup, request objects and responses for Starlette-based apps.

    The path the app routes on is :class:`~maintenance_core.adapter.Adapter`'s
    default, ``scope["path"]`` without the root path, as Starlette routes.
    """

    def __init__(self, app: object = None) -> None:
        self._resolver = RouteResolver(app)
        # Asked on every request: the resolver's own methods, one call fewer.
        self.resolve_route = self._resolver.resolve  # type: ignore[method-assign]
        self.may_force_on = self._resolver.may_force_on  # type: ignore[method-assign]

    def resolve_route(self, scope: Scope) -> RouteInfo:
        return self._resolver.resolve(scope)

    def may_force_on(self, scope: Scope) -> bool:
        return self._resolver.may_force_on(scope)

    def connection(self, scope: Scope, receive: Receive, send: Send) -> HTTPConnection:
        # Handlers get a Request for HTTP and a WebSocket (same headers, URL, client)
        # for websocket handshakes.
        if scope["type"] == "http":
            return Request(scope, receive, send)
        return WebSocket(scope, receive, send)

    def is_response(self, value: object) -> bool:
        return isinstance(value, Response)

    async def send_response(
        self, response: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        await response(scope, receive, send)
