"""State storage backends for maintenance mode.

``EnvVarBackend`` reads ``FASTAPI_MAINTENANCE_MODE`` unless told otherwise; the
other backends (``LocalFileBackend``, ``MemoryBackend`` and, with the ``redis``
extra, ``RedisBackend``) are maintenance-core's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from maintenance_core.backends import BaseStateBackend, LocalFileBackend, MemoryBackend
from maintenance_core.backends import EnvVarBackend as _CoreEnvVarBackend

# RedisBackend needs the optional redis package: it is imported only when asked for.
from maintenance_core.backends import __getattr__ as __getattr__

if TYPE_CHECKING:
    from maintenance_core.redis_backend import RedisBackend

__all__ = ["BaseStateBackend", "EnvVarBackend", "LocalFileBackend", "MemoryBackend", "RedisBackend"]

MAINTENANCE_MODE_ENV_VAR_NAME = "FASTAPI_MAINTENANCE_MODE"


class EnvVarBackend(_CoreEnvVarBackend):
    """Read the state from an environment variable (read-only).

    Args:
        var_name: the variable to read; ``FASTAPI_MAINTENANCE_MODE`` by default.
    """

    default_var_name: ClassVar[str] = MAINTENANCE_MODE_ENV_VAR_NAME
