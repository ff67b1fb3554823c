"""Maintenance mode for Litestar applications.

Add :class:`MaintenancePlugin` (or :class:`MaintenanceModeMiddleware`) to an
app, turn maintenance on with the ``LITESTAR_MAINTENANCE_MODE`` environment
variable, ``enable_maintenance=True`` or a writable backend, and keep handlers
reachable with ``opt={"maintenance_mode": "off"}`` or the decorators. For
maintenance limited to route groups, a handler's groups are its OpenAPI tags,
``opt={"maintenance_group": ...}`` on any layer and the ``maintenance_group``
decorator.
"""

from typing import TYPE_CHECKING

from maintenance_core.config import MaintenanceConfig

from ._state import registry as _registry

if TYPE_CHECKING:
    from .decorators import (
        force_maintenance_mode_off,
        force_maintenance_mode_on,
        maintenance_group,
    )
    from .middleware import MaintenanceModeMiddleware
    from .plugin import MaintenancePlugin

__version__ = "0.1.0"

# These import Litestar: imported on first use, so that the ``litestar-maintenance``
# command does not import Litestar for a file or Redis backend.
_LAZY = {
    "MaintenanceModeMiddleware": "middleware",
    "MaintenancePlugin": "plugin",
    "force_maintenance_mode_off": "decorators",
    "force_maintenance_mode_on": "decorators",
    "maintenance_group": "decorators",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


configure_backend = _registry.configure_backend
get_maintenance_mode = _registry.get_maintenance_mode
set_maintenance_mode = _registry.set_maintenance_mode
maintenance_mode_on = _registry.maintenance_mode_on
maintenance_mode_off = _registry.maintenance_mode_off

registry = _registry
"""The :class:`~maintenance_core.BackendRegistry` behind the functions above, for tools
and tests: ``maintenance_core.testing.reset(litestar_maintenance)`` resets it between tests."""

__all__ = [
    "MaintenanceConfig",
    "MaintenanceModeMiddleware",
    "MaintenancePlugin",
    "configure_backend",
    "force_maintenance_mode_off",
    "force_maintenance_mode_on",
    "get_maintenance_mode",
    "maintenance_group",
    "maintenance_mode_off",
    "maintenance_mode_on",
    "set_maintenance_mode",
]
