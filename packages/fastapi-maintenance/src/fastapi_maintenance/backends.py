"""State storage backends for maintenance mode.

:class:`StateBackend` is the contract of every backend; :class:`BaseStateBackend`
is fastapi-maintenance 0.0.5's boolean contract (``get_value``/``set_value``)
for backends written against it. ``EnvVarBackend`` reads
``FASTAPI_MAINTENANCE_MODE`` unless told otherwise; the other backends
(``LocalFileBackend``, ``MemoryBackend`` and, with the ``redis`` extra,
``RedisBackend``) are maintenance-core's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from maintenance_core.backends import (
    BaseStateBackend,
    LocalFileBackend,
    MemoryBackend,
    StateBackend,
)
from maintenance_core.backends import EnvVarBackend as _CoreEnvVarBackend

if TYPE_CHECKING:
    from maintenance_core.backends.redis import RedisBackend as RedisBackend

# RedisBackend is left out of __all__ so that a star import works without the redis extra.
__all__ = [
    "BaseStateBackend",
    "EnvVarBackend",
    "LocalFileBackend",
    "MemoryBackend",
    "StateBackend",
]

MAINTENANCE_MODE_ENV_VAR_NAME = "FASTAPI_MAINTENANCE_MODE"


class EnvVarBackend(_CoreEnvVarBackend):
    """Read the state from an environment variable (read-only).

    Args:
        var_name: the variable to read; ``FASTAPI_MAINTENANCE_MODE`` by default.
    """

    default_var_name: ClassVar[str] = MAINTENANCE_MODE_ENV_VAR_NAME
    log_namespace: ClassVar[str | None] = "fastapi_maintenance"


def __getattr__(name: str) -> object:
    # RedisBackend needs the optional redis package: it is imported only when asked for,
    # and a missing package is reported with this package's extra.
    if name == "RedisBackend":
        from maintenance_core._extras import redis_backend_class

        return redis_backend_class("fastapi-maintenance")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
