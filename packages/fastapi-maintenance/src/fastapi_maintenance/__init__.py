"""Maintenance mode for FastAPI applications.

Add :class:`MaintenanceModeMiddleware` to an app, turn maintenance on with the
``FASTAPI_MAINTENANCE_MODE`` environment variable, ``enable_maintenance=True``
or a writable backend, and control single endpoints with the decorators:
``force_maintenance_mode_on``/``force_maintenance_mode_off``, and
``maintenance_group`` for maintenance limited to route groups (a route's groups
are its OpenAPI tags and the names given with that marker).
"""

from typing import TYPE_CHECKING

from maintenance_core.config import MaintenanceConfig

from ._state import registry as _registry
from .decorators import force_maintenance_mode_off, force_maintenance_mode_on, maintenance_group

if TYPE_CHECKING:
    from .middleware import MaintenanceModeMiddleware

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The middleware imports Starlette: imported on first use, so that the
    # ``fastapi-maintenance`` command does not import FastAPI for a file or Redis backend.
    if name == "MaintenanceModeMiddleware":
        from .middleware import MaintenanceModeMiddleware

        globals()[name] = MaintenanceModeMiddleware
        return MaintenanceModeMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


configure_backend = _registry.configure_backend
get_maintenance_mode = _registry.get_maintenance_mode
set_maintenance_mode = _registry.set_maintenance_mode
maintenance_mode_on = _registry.maintenance_mode_on
maintenance_mode_off = _registry.maintenance_mode_off

registry = _registry
"""The :class:`~maintenance_core.BackendRegistry` behind the functions above, for tools
and tests: ``maintenance_core.testing.reset(fastapi_maintenance)`` resets it between tests."""

__all__ = [
    "MaintenanceConfig",
    "MaintenanceModeMiddleware",
    "configure_backend",
    "force_maintenance_mode_off",
    "force_maintenance_mode_on",
    "get_maintenance_mode",
    "maintenance_mode_off",
    "maintenance_group",
    "maintenance_mode_on",
    "set_maintenance_mode",
]
