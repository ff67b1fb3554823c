"""``MaintenancePlugin``: maintenance mode for a Litestar app in one line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import CLIPlugin, InitPlugin
from maintenance_core.bypass import DEFAULT_COOKIE_MAX_AGE
from maintenance_core.config import MaintenanceConfig
from maintenance_core.decision import StateErrorPolicy

from ._state import registry
from .backends import StateBackend
from .middleware import ExemptHandler, MaintenanceModeMiddleware, ResponseHandler

if TYPE_CHECKING:
    from click import Group

__all__ = ["MaintenancePlugin"]

_logger = logging.getLogger("litestar_maintenance.plugin")


class MaintenancePlugin(InitPlugin, CLIPlugin):
    """Add :class:`~litestar_maintenance.MaintenanceModeMiddleware` to the app.

    ``Litestar(plugins=[MaintenancePlugin(config=MaintenanceConfig(...))])``, or
    with the options as keyword arguments (never both). The middleware goes
    first in the app's middleware list, so no other middleware of the app runs
    for a request answered with the maintenance response. The arguments are the
    middleware's.

    The plugin also binds the app's backend while the app starts and stops
    (its ``lifespan`` managers, ``on_startup`` and ``on_shutdown`` hooks), so
    ``get_maintenance_mode()`` and the other module-level functions called
    there use this app's backend, even with several apps in one process.
    When the app shuts down, after its own ``on_shutdown`` hooks, the plugin
    closes that backend (:meth:`~maintenance_core.backends.StateBackend.aclose`:
    Redis connections and the sync task of the app's event loop).

    It is also a Litestar CLI plugin: with the ``cli`` extra,
    ``litestar --app app:app maintenance status|on|off`` shows or switches the
    maintenance mode on :attr:`backend`.

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
        # The token of the lifespan's binding, in the context of the lifespan it binds.
        self._bound: ContextVar[Token[Any] | None] = ContextVar(
            "litestar_maintenance_lifespan", default=None
        )

    @property
    def backend(self) -> StateBackend:
        """The backend this app reads: the config's ``backend``, else, at the time
        of the call, the one set with ``configure_backend()``, else the
        ``LITESTAR_MAINTENANCE_MODE`` environment variable."""
        return self.middleware.guard.backend

    def on_cli_init(self, cli: Group) -> None:
        """Add the ``maintenance`` command to Litestar's CLI (``litestar maintenance``)."""
        from .cli import litestar_command

        cli.add_command(litestar_command(self))

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.middleware.insert(0, self.middleware)
        # Litestar enters the lifespan managers first, then runs on_startup; at
        # shutdown it leaves the managers, then runs on_shutdown. The first manager
        # binds and the last on_shutdown hook closes the backend and unbinds, so all of
        # them see the backend.
        app_config.lifespan.insert(0, self._bind_lifespan)
        app_config.on_shutdown.append(self._unbind_lifespan)
        return app_config

    @asynccontextmanager
    async def _bind_lifespan(self, app: Litestar) -> AsyncIterator[None]:
        if self._bound.get() is None:
            self._bound.set(registry.bind(self.middleware.guard.backend))
        yield

    async def _unbind_lifespan(self) -> None:
        backend = self.backend
        try:
            await backend.aclose()
        except Exception:
            _logger.exception("Could not close the maintenance backend %s.", backend.describe())
        finally:
            token = self._bound.get()
            if token is not None:
                self._bound.set(None)
                registry.unbind(token)
