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

Route groups
------------

An ASGI app has no OpenAPI tags: a handler joins maintenance groups (for
``set_maintenance_mode(True, groups=[...])``, CLI ``on --group``) through the
:func:`~maintenance_core.markers.maintenance_group` marker, set on the handler
object ``find_handler`` returns, like the ``force_maintenance_mode_*`` markers::

    @maintenance_group("payments")
    async def pay(scope, receive, send): ...

    routes = {("POST", "/pay"): pay, ...}
"""

from __future__ import annotations

from collections.abc import Callable

from ._adapter_base import Adapter, Connection, Scope
from .decision import NO_ROUTE, PLAIN_ROUTE, RouteInfo
from .markers import ForcedMode, forced_mode_of, groups_of

__all__ = ["Connection", "GenericAdapter"]

_FORCED_ON = RouteInfo(exists=True, forced=ForcedMode.ON)
_FORCED_OFF = RouteInfo(exists=True, forced=ForcedMode.OFF)


class GenericAdapter(Adapter):
    """The adapter for ASGI apps that no framework adapter covers.

    Handlers get a :class:`Connection`; a ``response_handler`` returns any ASGI
    callable. The other hooks are :class:`~maintenance_core.adapter.Adapter`'s
    defaults.

    Args:
        find_handler: returns the handler object a scope reaches, or ``None``
            when no route serves it (the request then proceeds, for the app's own
            404/405). Without it every request counts as reaching a route
            without marker. The handler's markers say whether it is forced on
            or off and which maintenance groups it is in
            (:func:`~maintenance_core.markers.maintenance_group`).
    """

    def __init__(self, find_handler: Callable[[Scope], object | None] | None = None) -> None:
        self._find_handler = find_handler

    def resolve_route(self, scope: Scope) -> RouteInfo:
        """The markers of the handler ``find_handler`` returns; :data:`NO_ROUTE` for ``None``."""
        if self._find_handler is None:
            return PLAIN_ROUTE
        handler = self._find_handler(scope)
        if handler is None:
            return NO_ROUTE
        forced = forced_mode_of(handler)
        groups = groups_of(handler)
        if groups:
            return RouteInfo(exists=True, forced=forced, groups=groups)
        if forced is ForcedMode.ON:
            return _FORCED_ON
        if forced is ForcedMode.OFF:
            return _FORCED_OFF
        return PLAIN_ROUTE
