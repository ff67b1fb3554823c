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
from contextvars import Token

from ._binding import DEFAULT_NAMESPACE, Binding, bind, unbind
from ._binding import namespace as current_namespace

__all__ = ["DEFAULT_NAMESPACE", "get_logger", "reset_namespace", "use_namespace"]


def get_logger(module: str, namespace: str | None = None) -> logging.Logger:
    """The logger for *module* (``"backends"``, ``"middleware"``...) in the current namespace.

    Called when a record is about to be logged, never on the request path.
    """
    return logging.getLogger(f"{namespace or current_namespace()}.{module}")


def use_namespace(namespace: str) -> Token[Binding | None]:
    """Log under *namespace* in this context; pass the token to :func:`reset_namespace`."""
    return bind(namespace)


def reset_namespace(token: Token[Binding | None]) -> None:
    """Undo :func:`use_namespace`."""
    unbind(token)
