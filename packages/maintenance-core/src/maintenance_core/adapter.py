"""The adapter-facing API: what a framework adapter is built from.

Users of an adapter (``fastapi-maintenance``, ``litestar-maintenance``) need
none of this; it is for whoever writes an adapter for another framework. See
the "Write an adapter" documentation page for a worked example (a plain
Starlette adapter in about forty lines), and :mod:`maintenance_core.testing`
for the conformance scenarios an adapter's own test suite runs.

An adapter:

1. subclasses :class:`Adapter` and overrides the hooks its framework needs:
   :meth:`~FrameworkAdapter.resolve_route` (does a route serve the request,
   which marker does its handler carry), usually
   :meth:`~FrameworkAdapter.connection`, :meth:`~FrameworkAdapter.is_response`
   and :meth:`~FrameworkAdapter.send_response` (the framework's request and
   response objects), and :meth:`~FrameworkAdapter.routing_path` if the
   framework rewrites ``scope["path"]`` before the guard runs;
2. owns one :class:`BackendRegistry`, behind its module-level
   ``get_maintenance_mode()`` and friends;
3. builds a :class:`MaintenanceGuard` from a :class:`MaintenanceConfig`, the
   adapter and the registry, and wraps the app with
   :class:`MaintenanceMiddleware` (or calls :meth:`MaintenanceGuard.handle`
   from the framework's own middleware class).

Precedence (:func:`decide`), the state read (:class:`StateReader`), the bypass,
overrides and the responses are the guard's: an adapter decides nothing.
"""

from __future__ import annotations

from ._adapter_base import (
    ROUTING_PATH_KEY,
    Adapter,
    ASGIApp,
    Connection,
    FrameworkAdapter,
    Message,
    Receive,
    Scope,
    Send,
    default_routing_path,
)
from .config import MaintenanceConfig
from .coverage import WHOLE_SITE, Coverage, normalize_groups
from .decision import NO_ROUTE, PLAIN_ROUTE, RouteInfo, StateErrorPolicy, StateReader, decide
from .generic import GenericAdapter
from .markers import ForcedMode, forced_mode_of, groups_of, parse_forced_mode
from .middleware import MaintenanceGuard, MaintenanceMiddleware
from .registry import BackendRegistry
from .responses import MaintenanceResponse, strip_body
from .state import NOTICE_SCOPE_KEY, MaintenanceNotice

__all__ = [
    "NOTICE_SCOPE_KEY",
    "NO_ROUTE",
    "PLAIN_ROUTE",
    "ROUTING_PATH_KEY",
    "ASGIApp",
    "Adapter",
    "BackendRegistry",
    "WHOLE_SITE",
    "Connection",
    "Coverage",
    "ForcedMode",
    "FrameworkAdapter",
    "GenericAdapter",
    "MaintenanceConfig",
    "MaintenanceGuard",
    "MaintenanceMiddleware",
    "MaintenanceNotice",
    "MaintenanceResponse",
    "Message",
    "Receive",
    "RouteInfo",
    "Scope",
    "Send",
    "StateErrorPolicy",
    "StateReader",
    "decide",
    "default_routing_path",
    "forced_mode_of",
    "groups_of",
    "normalize_groups",
    "parse_forced_mode",
    "strip_body",
]
