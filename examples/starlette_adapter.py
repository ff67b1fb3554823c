"""A maintenance-mode adapter for plain Starlette apps: the worked example of docs/adapters.md.

Usage: ``app = with_maintenance(Starlette(routes=[...]), MaintenanceConfig(...))``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from maintenance_core import EnvVarBackend, MaintenanceConfig
from maintenance_core.adapter import (
    NO_ROUTE,
    Adapter,
    BackendRegistry,
    MaintenanceGuard,
    MaintenanceMiddleware,
    Receive,
    RouteInfo,
    Scope,
    Send,
    forced_mode_of,
)
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.websockets import WebSocket


class StarletteEnvVarBackend(EnvVarBackend):
    default_var_name: ClassVar[str] = "STARLETTE_MAINTENANCE_MODE"


# Behind the module-level functions: registry.get_maintenance_mode(), .maintenance_mode_on(), ...
registry = BackendRegistry("starlette_maintenance", StarletteEnvVarBackend)


class StarletteAdapter(Adapter):
    """Routes, markers, requests and responses of a Starlette app (without Mounts)."""

    def __init__(self, app: Starlette) -> None:
        self.routes = app.routes

    def resolve_route(self, scope: Scope) -> RouteInfo:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                endpoint = getattr(route, "endpoint", None)
                return RouteInfo(exists=True, forced=forced_mode_of(endpoint))
        return NO_ROUTE  # no such path, or not this method: Starlette answers 404/405

    def connection(self, scope: Scope, receive: Receive, send: Send) -> HTTPConnection:
        if scope["type"] == "http":
            return Request(scope, receive, send)
        return WebSocket(scope, receive, send)

    def is_response(self, value: object) -> bool:
        return isinstance(value, Response)


def with_maintenance(
    app: Starlette, config: MaintenanceConfig | None = None, **options: Any
) -> MaintenanceMiddleware:
    """*app* guarded by maintenance mode: a config, or its options as keyword arguments."""
    guard = MaintenanceGuard(config, adapter=StarletteAdapter(app), registry=registry, **options)
    return MaintenanceMiddleware(app, guard)
