"""The maintenance mode middleware for FastAPI and Starlette apps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from maintenance_core.bypass import DEFAULT_COOKIE_MAX_AGE
from maintenance_core.config import MaintenanceConfig
from maintenance_core.decision import StateErrorPolicy
from maintenance_core.middleware import ASGIApp, MaintenanceGuard, MaintenanceMiddleware
from starlette.requests import Request
from starlette.responses import Response

from ._adapter import StarletteAdapter
from ._state import registry
from .backends import StateBackend

__all__ = ["ExemptHandler", "MaintenanceModeMiddleware", "ResponseHandler"]

ExemptHandler = Callable[[Request], bool | Awaitable[bool]]
ResponseHandler = Callable[[Request], Response | Awaitable[Response]]


class MaintenanceModeMiddleware(MaintenanceMiddleware):
    """Answer requests with ``503`` while maintenance mode is on.

    Add it with ``app.add_middleware(MaintenanceModeMiddleware, ...)``. It is a
    pure ASGI middleware: requests that proceed reach the app untouched. The
    keyword arguments build a :class:`~fastapi_maintenance.MaintenanceConfig`;
    ``config=`` passes one instead (never both).

    Args:
        app: the ASGI app (given by ``add_middleware``).
        enable_maintenance: ``True``/``False`` to fix the state regardless of the
            backend; ``None`` (default) reads the backend.
        backend: where the state is stored; by default the one set with
            ``configure_backend()``, else the ``FASTAPI_MAINTENANCE_MODE``
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
        app: ASGIApp,
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
        config = MaintenanceConfig.from_options(
            config,
            enable_maintenance=enable_maintenance,
            backend=backend,
            exempt_handler=exempt_handler,
            response_handler=response_handler,
            bypass_secret=bypass_secret,
            bypass_cookie_max_age=bypass_cookie_max_age,
            on_state_error=on_state_error,
        )
        super().__init__(
            app, MaintenanceGuard(config, adapter=StarletteAdapter(app), registry=registry)
        )
