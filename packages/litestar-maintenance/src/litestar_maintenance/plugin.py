"""``MaintenancePlugin``: maintenance mode for a Litestar app in one line."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from maintenance_core.bypass import DEFAULT_COOKIE_MAX_AGE
from maintenance_core.config import MaintenanceConfig
from maintenance_core.decision import StateErrorPolicy

from .backends import StateBackend
from .middleware import ExemptHandler, MaintenanceModeMiddleware, ResponseHandler

__all__ = ["MaintenancePlugin"]


class MaintenancePlugin(InitPlugin):
    """Add :class:`~litestar_maintenance.MaintenanceModeMiddleware` to the app.

    ``Litestar(plugins=[MaintenancePlugin(config=MaintenanceConfig(...))])``, or
    with the options as keyword arguments (never both). The middleware goes
    first in the app's middleware list, so no other middleware of the app runs
    for a request answered with the maintenance response. The arguments are the
    middleware's.

    Attributes:
        config: the options, as a :class:`~litestar_maintenance.MaintenanceConfig`.
        middleware: the middleware added to the app.
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
        self.middleware = MaintenanceModeMiddleware(
            enable_maintenance=enable_maintenance,
            backend=backend,
            exempt_handler=exempt_handler,
            response_handler=response_handler,
            config=config,
            bypass_secret=bypass_secret,
            bypass_cookie_max_age=bypass_cookie_max_age,
            on_state_error=on_state_error,
        )
        self.config = self.middleware.config

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.middleware.insert(0, self.middleware)
        return app_config
