"""State storage backends for maintenance mode.

``EnvVarBackend`` reads ``FASTAPI_MAINTENANCE_MODE`` unless told otherwise; the
other backends (``LocalFileBackend``, ``MemoryBackend`` and, with the ``redis``
extra, ``RedisBackend``) are maintenance-core's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from maintenance_core.backends import BaseStateBackend, LocalFileBackend, MemoryBackend
from maintenance_core.backends import EnvVarBackend as _CoreEnvVarBackend

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


def __getattr__(name: str) -> Any:
    # RedisBackend needs the optional redis package: import it only when asked for.
    if name == "RedisBackend":
        from maintenance_core.redis_backend import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
