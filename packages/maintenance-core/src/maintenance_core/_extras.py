"""Optional extras, asked for in the name of the package the user installed.

An adapter passes its distribution name (``"litestar-maintenance"``), so a
Litestar user missing the ``redis`` extra is told to
``pip install 'litestar-maintenance[redis]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MaintenanceError

if TYPE_CHECKING:
    from .backends.redis import RedisBackend
    from .registry import BackendFactory

__all__ = ["ExtraNotInstalledError", "extra_missing", "redis_backend_class", "redis_factory"]

# What each extra installs: an ImportError naming another module is a bug, not a missing extra.
_EXTRA_MODULES = {"redis": ("redis",), "cli": ("typer", "rich", "click")}


class ExtraNotInstalledError(MaintenanceError, ImportError):
    """An optional extra is needed and not installed; the message says what to install.

    An ``ImportError``, and a ``MaintenanceError`` so that the command line
    reports it in one line.
    """


def _missing_module(exc: BaseException | None) -> ImportError | None:
    """The error naming the module not found: *exc*, or one it was raised from."""
    while exc is not None:
        if isinstance(exc, ImportError) and isinstance(exc.name, str):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def extra_missing(exc: BaseException, extra: str) -> bool:
    """Whether *exc* (or the error it was raised from) is a module of *extra* not found."""
    missing = _missing_module(exc)
    return missing is not None and str(missing.name).partition(".")[0] in _EXTRA_MODULES[extra]


def redis_backend_class(package: str) -> type[RedisBackend]:
    """``RedisBackend``, imported on use.

    Raises:
        ExtraNotInstalledError: without the redis package, naming ``package[redis]``.
    """
    try:
        from .backends.redis import RedisBackend
    except ImportError as exc:
        if not extra_missing(exc, "redis"):
            raise
        # Raised from the module not found, not from the core's message naming every adapter.
        raise ExtraNotInstalledError(
            "RedisBackend needs the redis package, which is not installed: "
            f"pip install '{package}[redis]'."
        ) from _missing_module(exc)
    return RedisBackend


def redis_factory(package: str) -> BackendFactory:
    """The ``"redis"`` factory of an adapter's registry, naming *package* when redis is missing."""

    def create(**kwargs: Any) -> RedisBackend:
        return redis_backend_class(package)(**kwargs)

    return create
