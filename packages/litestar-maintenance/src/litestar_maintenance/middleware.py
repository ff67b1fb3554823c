"""The maintenance mode middleware for Litestar apps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.response import Response
from litestar.types import ASGIApp, Receive, Scope, Send
from maintenance_core.bypass import DEFAULT_COOKIE_MAX_AGE
from maintenance_core.config import MaintenanceConfig
from maintenance_core.decision import StateErrorPolicy
from maintenance_core.middleware import MaintenanceGuard, MaintenanceMiddleware

from ._adapter import LitestarAdapter
from ._state import registry
from .backends import StateBackend

__all__ = ["ExemptHandler", "MaintenanceModeMiddleware", "ResponseHandler"]

_GUARDED_SCOPES = {ScopeType.HTTP, ScopeType.WEBSOCKET}

ExemptHandler = Callable[[Request[Any, Any, Any]], bool | Awaitable[bool]]
ResponseHandler = Callable[[Request[Any, Any, Any]], Response[Any] | Awaitable[Response[Any]]]


class MaintenanceModeMiddleware(ASGIMiddleware):
    """Answer requests with ``503`` while maintenance mode is on.

    Use it as ``Litestar(middleware=[MaintenanceModeMiddleware(...)])``, or let
    :class:`~litestar_maintenance.MaintenancePlugin` add it. Litestar builds the
    middleware into each route; all routes share this instance's state.

    Give the options either as a :class:`~litestar_maintenance.MaintenanceConfig`
    (``MaintenanceModeMiddleware(config=MaintenanceConfig(...))``) or as the
    keyword arguments below, never both. Options added after 0.1 are only in
    the config.

    Args:
        enable_maintenance: ``True``/``False`` to fix the state regardless of the
            backend; ``None`` (default) reads the backend.
        backend: where the state is stored; by default the one set with
            ``configure_backend()``, else the ``LITESTAR_MAINTENANCE_MODE``
            environment variable.
        exempt_handler: ``(request) -> bool``, sync or async: return ``True`` to
            let a request through during maintenance. Websocket handshakes pass
            a ``WebSocket``.
        response_handler: ``(request) -> Response``, sync or async: the response
            to send instead of the default JSON ``503``.
        config: all of the options in one object.
        bypass_secret, bypass_cookie_max_age, on_state_error: the team's
            bypass secret, its cookie's lifetime and what to serve while the
            state cannot be read; see :class:`maintenance_core.MaintenanceConfig`.

    Raises:
        ConfigurationError: for a bad option, or for both ``config`` and
            options, when the middleware is built (a ``ValueError`` and
            ``TypeError`` too).
    """

    def __init__(
        self,
        enable_maintenance: bool | None = None,
        backend: StateBackend | None = None,
        exempt_handler: ExemptHandler | None = None,
        response_handler: ResponseHandler | None = None,
        *,
        config: MaintenanceConfig | None = None,
        bypass_secret: str | None = None,
        bypass_cookie_max_age: int = DEFAULT_COOKIE_MAX_AGE,
        on_state_error: StateErrorPolicy = "last_known",
    ) -> None:
        self.config = MaintenanceConfig.from_options(
            config,
            enable_maintenance=enable_maintenance,
            backend=backend,
            exempt_handler=exempt_handler,
            response_handler=response_handler,
            bypass_secret=bypass_secret,
            bypass_cookie_max_age=bypass_cookie_max_age,
            on_state_error=on_state_error,
        )
        self.guard = MaintenanceGuard(self.config, adapter=LitestarAdapter(), registry=registry)

    def __call__(self, app: ASGIApp) -> ASGIApp:
        """The middleware Litestar builds into a route, around the route's *app*.

        The guard already passes every scope but ``http`` and ``websocket`` through
        untouched, so unless this middleware is told to skip some requests (with
        ``scopes`` lacking one of those, ``exclude_path_pattern``,
        ``exclude_opt_key`` or ``should_bypass_for_scope``) or a subclass has its
        own :meth:`handle`, it is the core's pure ASGI middleware around *app*:
        one call per request, without the generic checks of
        :class:`~litestar.middleware.ASGIMiddleware`.
        """
        if (
            type(self).handle is not MaintenanceModeMiddleware.handle  # a subclass's own
            or self.exclude_path_pattern
            or self.exclude_opt_key
            or getattr(self, "should_bypass_for_scope", None) is not None  # Litestar >= 2.16
            or not set(self.scopes) >= _GUARDED_SCOPES
        ):
            return super().__call__(app)
        return MaintenanceMiddleware(app, self.guard)  # type: ignore[arg-type, return-value]

    def __deepcopy__(self, memo: dict[int, Any]) -> MaintenanceModeMiddleware:
        # Litestar deep-copies a Router, with its middleware, when it is registered: a
        # copy would guard a copy of the backend, which nobody switches, and its own
        # in-flight count, which no drain sees. Every layer shares this one.
        return self

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        await self.guard.handle(scope, receive, send, next_app)  # type: ignore[arg-type]
