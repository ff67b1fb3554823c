"""Loggers named after the package the user installed.

The core's records go to ``maintenance_core.<module>`` by default. Inside an
adapter's context (a request its middleware serves, or a call to its
module-level functions) they go to ``<adapter>.<module>`` instead, for example
``fastapi_maintenance.backends``: logging configured for the package a user
installed (fastapi-maintenance 0.0.5 logged to ``fastapi_maintenance.backends``)
receives the records of the code that serves that package.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token

__all__ = ["DEFAULT_NAMESPACE", "get_logger", "reset_namespace", "use_namespace"]

DEFAULT_NAMESPACE = "maintenance_core"

_namespace: ContextVar[str] = ContextVar(
    "maintenance_core_log_namespace", default=DEFAULT_NAMESPACE
)


def get_logger(module: str, namespace: str | None = None) -> logging.Logger:
    """The logger for *module* (``"backends"``, ``"middleware"``...) in the current namespace.

    Called when a record is about to be logged, never on the request path.
    """
    return logging.getLogger(f"{namespace or _namespace.get()}.{module}")


def use_namespace(namespace: str) -> Token[str]:
    """Log under *namespace* in this context; pass the token to :func:`reset_namespace`."""
    return _namespace.set(namespace)


def reset_namespace(token: Token[str]) -> None:
    """Undo :func:`use_namespace`."""
    _namespace.reset(token)
