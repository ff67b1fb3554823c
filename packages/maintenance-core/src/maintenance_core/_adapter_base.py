"""The adapter interface, defined below the guard so the guard can import it.

Everything here is public through :mod:`maintenance_core.adapter`; see there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Protocol

from .decision import PLAIN_ROUTE, RouteInfo

__all__ = [
    "ROUTING_PATH_KEY",
    "ASGIApp",
    "Adapter",
    "Connection",
    "FrameworkAdapter",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "default_routing_path",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ROUTING_PATH_KEY = "maintenance.routing_path"
"""The scope key under which the guard records the path the app routes on.

The guard sets it, from :meth:`FrameworkAdapter.routing_path`, before it calls
an ``exempt_handler`` or a ``response_handler``, so handlers (and
:func:`maintenance_core.exemptions.exempt_paths`) match the path the app routes
on even where the framework has rewritten ``scope["path"]``.
"""


def default_routing_path(scope: Mapping[str, Any]) -> str:
    """``scope["path"]`` without a leading ``scope["root_path"]``, as Starlette routes.

    The root path is removed only when the path starts with it on a ``/``
    boundary (``/api`` is removed from ``/api/x``, not from ``/apix``); what
    remains is never empty (``"/"`` at least).
    """
    path: str = scope.get("path") or "/"
    root_path: str = scope.get("root_path") or ""
    if root_path and path.startswith(root_path):
        rest = path[len(root_path) :]
        if not rest:
            return "/"
        if rest[0] == "/":
            return rest
    return path


class Connection:
    """The request handed to handlers by adapters without request objects of their own.

    :class:`Adapter` (and so :class:`~maintenance_core.GenericAdapter`) hands
    one to ``exempt_handler`` and ``response_handler``.

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


class FrameworkAdapter(Protocol):
    """What a framework adapter tells the guard; it decides nothing itself.

    Every hook is required; :class:`Adapter` implements each with a default,
    so an adapter subclassing it writes only the hooks its framework needs.
    The guard checks at construction that an adapter has every hook.
    """

    def resolve_route(self, scope: Scope) -> RouteInfo:
        """Which route this scope reaches: does it exist, which marker, a built-in exemption.

        Return :data:`~maintenance_core.adapter.NO_ROUTE` when no route serves
        the request (the framework then answers its own 404/405).
        Default: :data:`~maintenance_core.adapter.PLAIN_ROUTE`, a route without marker.
        """
        ...

    def may_force_on(self, scope: Scope) -> bool:
        """Whether any route of the app this scope belongs to is marked forced on.

        When it says no, a request while maintenance is off is passed on without
        a route lookup. Called on every request: keep it a lookup of something
        worked out once. Default: ``True`` (always look the route up).
        """
        ...

    def routing_path(self, scope: Scope) -> str:
        """The path the app routes on, which ``exempt_paths`` matches.

        The guard records it in the scope under
        :data:`~maintenance_core.adapter.ROUTING_PATH_KEY` before calling an
        exempt or response handler (only then: it costs nothing otherwise).
        Default: ``scope["path"]`` without a leading ``scope["root_path"]``
        (:func:`default_routing_path`); a framework that rewrites
        ``scope["path"]`` before the guard runs returns the path it routed on.
        """
        ...

    def connection(self, scope: Scope, receive: Receive, send: Send) -> Any:
        """The framework's request object, handed to ``exempt_handler``/``response_handler``.

        Default: a :class:`Connection`.
        """
        ...

    def is_response(self, value: object) -> bool:
        """Whether a ``response_handler`` returned something this adapter can send.

        Default: any callable (an ASGI app, such as a
        :class:`~maintenance_core.MaintenanceResponse`).
        """
        ...

    async def send_response(
        self, response: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Send a response object of the framework.

        If it raises before anything was sent, the guard sends the default
        maintenance response instead; after the response started, the guard
        logs the error. Default: call the response as an ASGI app.
        """
        ...


class Adapter:
    """A :class:`FrameworkAdapter` with every hook's default: subclass it.

    An adapter for a framework overrides :meth:`resolve_route` (to find the
    route and its marker) and the hooks its framework needs; see the "Write an
    adapter" documentation page for a worked example.
    """

    def resolve_route(self, scope: Scope) -> RouteInfo:
        """Default: :data:`~maintenance_core.adapter.PLAIN_ROUTE`, every request
        reaches a route without marker."""
        return PLAIN_ROUTE

    def may_force_on(self, scope: Scope) -> bool:
        """Default: ``True``, every request is looked up with :meth:`resolve_route`."""
        return True

    def routing_path(self, scope: Scope) -> str:
        """Default: ``scope["path"]`` without a leading ``scope["root_path"]``."""
        return default_routing_path(scope)

    def connection(self, scope: Scope, receive: Receive, send: Send) -> Any:
        """Default: a :class:`Connection`."""
        return Connection(scope, receive, send)

    def is_response(self, value: object) -> bool:
        """Default: any callable, taken for an ASGI app."""
        return callable(value)

    async def send_response(
        self, response: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Default: ``await response(scope, receive, send)``."""
        await response(scope, receive, send)
