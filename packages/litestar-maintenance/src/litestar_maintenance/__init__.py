"""Maintenance mode for Litestar applications.

Add :class:`MaintenancePlugin` (or :class:`MaintenanceModeMiddleware`) to an
app, turn maintenance on with the ``LITESTAR_MAINTENANCE_MODE`` environment
variable, ``enable_maintenance=True`` or a writable backend, and keep handlers
reachable with ``opt={"maintenance_mode": "off"}`` or the decorators.
"""

from maintenance_core.config import MaintenanceConfig

from ._state import registry as _registry
from .decorators import force_maintenance_mode_off, force_maintenance_mode_on
from .middleware import MaintenanceModeMiddleware
from .plugin import MaintenancePlugin

__version__ = "0.1.0"

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
    "maintenance_mode_off",
    "maintenance_mode_on",
    "set_maintenance_mode",
]
