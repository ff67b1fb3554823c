"""Where the maintenance switch is stored: one contract, one module per backend.

- :class:`StateBackend` (:mod:`.base`): the contract every backend implements;
  :class:`BaseStateBackend` is fastapi-maintenance 0.0.5's boolean contract
  (``get_value``/``set_value``) for backends written against it.
- :class:`EnvVarBackend` (:mod:`.env`), :class:`LocalFileBackend` (:mod:`.file`),
  :class:`MemoryBackend` (:mod:`.memory`) and, with the ``redis`` extra,
  :class:`RedisBackend` (:mod:`.redis`).

Backends know nothing about requests, routes or overrides; precedence is
decided in :mod:`maintenance_core.decision`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BaseStateBackend, StateBackend, parse_state
from .env import EnvVarBackend
from .file import LocalFileBackend
from .memory import MemoryBackend

if TYPE_CHECKING:
    from .redis import RedisBackend as RedisBackend

# RedisBackend is not in __all__: a star import must work without the redis extra.
__all__ = [
    "BaseStateBackend",
    "EnvVarBackend",
    "LocalFileBackend",
    "MemoryBackend",
    "StateBackend",
    "parse_state",
]


def __getattr__(name: str) -> object:
    # RedisBackend needs the optional redis package: import it only when asked for.
    if name == "RedisBackend":
        from .redis import RedisBackend as RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
