"""Framework-neutral maintenance mode for ASGI apps.

The pieces: state backends (:mod:`.backends`, one contract and one module per
backend), overrides (:mod:`.overrides`), per-handler markers (:mod:`.markers`),
precedence (:mod:`.decision`), the response protocol (:mod:`.responses`), the
module-level API an adapter exposes (:mod:`.registry`) and the pure ASGI
middleware (:mod:`.middleware`).
Framework adapters such as ``fastapi-maintenance`` plug in route lookup and
their request and response objects.
"""

from .backends import (
    BaseStateBackend,
    EnvVarBackend,
    LocalFileBackend,
    MemoryBackend,
    StateBackend,
    parse_state,
)
from .config import MaintenanceConfig
from .decision import NO_ROUTE, PLAIN_ROUTE, RouteInfo, StateReader, decide
from .errors import (
    BackendReadOnlyError,
    ConfigurationError,
    InvalidStateValueError,
    MaintenanceError,
    UnknownBackendError,
)
from .generic import Connection, GenericAdapter
from .markers import (
    ForcedMode,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    forced_mode_of,
)
from .middleware import FrameworkAdapter, MaintenanceGuard, MaintenanceMiddleware
from .overrides import MaintenanceOverride, OverrideState, OverrideStore, overrides_of
from .registry import BackendRegistry
from .responses import DEFAULT_DETAIL, DEFAULT_RETRY_AFTER, MaintenanceResponse

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DETAIL",
    "DEFAULT_RETRY_AFTER",
    "NO_ROUTE",
    "PLAIN_ROUTE",
    "BackendReadOnlyError",
    "BackendRegistry",
    "BaseStateBackend",
    "ConfigurationError",
    "Connection",
    "EnvVarBackend",
    "ForcedMode",
    "FrameworkAdapter",
    "GenericAdapter",
    "InvalidStateValueError",
    "LocalFileBackend",
    "MaintenanceConfig",
    "MaintenanceError",
    "MaintenanceGuard",
    "MaintenanceMiddleware",
    "MaintenanceOverride",
    "MaintenanceResponse",
    "MemoryBackend",
    "OverrideState",
    "OverrideStore",
    "RouteInfo",
    "StateBackend",
    "StateReader",
    "UnknownBackendError",
    "__version__",
    "decide",
    "force_maintenance_mode_off",
    "force_maintenance_mode_on",
    "forced_mode_of",
    "overrides_of",
    "parse_state",
]
