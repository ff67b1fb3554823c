"""Framework-neutral maintenance mode for ASGI apps.

The pieces: state backends (:mod:`.backends`, one contract and one module per
backend), overrides (:mod:`.overrides`), per-handler markers (:mod:`.markers`),
precedence (:mod:`.decision`), the response protocol (:mod:`.responses`), the
module-level API an adapter exposes (:mod:`.registry`) and the pure ASGI
middleware (:mod:`.middleware`).
Framework adapters such as ``fastapi-maintenance`` plug in route lookup and
their request and response objects.

This namespace is the user-facing API. What an adapter is built from (the
adapter protocol and base class, ``RouteInfo``, ``decide``, ``StateReader``)
is in :mod:`maintenance_core.adapter`, and the conformance scenarios and the
reset between tests in :mod:`maintenance_core.testing`. The adapter-facing
names are still importable from here, for code written before that split, but not listed in
``__all__``.
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
from .coverage import WHOLE_SITE, Coverage
from .decision import NO_ROUTE as NO_ROUTE
from .decision import PLAIN_ROUTE as PLAIN_ROUTE
from .decision import RouteInfo as RouteInfo
from .decision import StateReader as StateReader
from .decision import decide as decide
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
    groups_of,
    maintenance_group,
)
from .middleware import FrameworkAdapter as FrameworkAdapter
from .middleware import MaintenanceGuard, MaintenanceMiddleware
from .overrides import MaintenanceOverride, OverrideState, OverrideStore, overrides_of
from .registry import BackendRegistry
from .responses import DEFAULT_DETAIL, DEFAULT_RETRY_AFTER, MaintenanceResponse

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DETAIL",
    "DEFAULT_RETRY_AFTER",
    "BackendReadOnlyError",
    "WHOLE_SITE",
    "BackendRegistry",
    "BaseStateBackend",
    "ConfigurationError",
    "Connection",
    "Coverage",
    "EnvVarBackend",
    "ForcedMode",
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
    "StateBackend",
    "UnknownBackendError",
    "__version__",
    "force_maintenance_mode_off",
    "force_maintenance_mode_on",
    "forced_mode_of",
    "groups_of",
    "maintenance_group",
    "overrides_of",
    "parse_state",
]
