"""The ``fastapi-maintenance`` command: show or switch the maintenance mode.

Needs the ``cli`` extra (``pip install 'fastapi-maintenance[cli]'``)::

    fastapi-maintenance --app main:app status
    fastapi-maintenance --app main:app on --for 30m --with-secret
    fastapi-maintenance status --file-path maintenance_mode.txt --json
    fastapi-maintenance off --backend redis

With ``--app module:attribute`` (or ``FASTAPI_MAINTENANCE_APP``) the command
imports the app and acts on the backend of its
:class:`~fastapi_maintenance.MaintenanceModeMiddleware`, else on the backend
the app configures with ``configure_backend()``. Without ``--app`` it imports
neither the app nor FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maintenance_core.console import run_cli

from . import __version__
from ._state import registry

if TYPE_CHECKING:
    import typer
    from maintenance_core.middleware import MaintenanceGuard

    app: typer.Typer

__all__ = ["PROG_NAME", "app", "create_app", "find_guard", "main"]

PROG_NAME = "fastapi-maintenance"


def find_guard(app: Any) -> MaintenanceGuard | None:
    """The guard of the :class:`~fastapi_maintenance.MaintenanceModeMiddleware` added to
    a FastAPI or Starlette app with ``add_middleware``, or ``None``.

    Starlette builds the middleware at the first request and keeps until then
    ``Middleware(cls, *args, **kwargs)`` in ``app.user_middleware``; the
    middleware is built here with those arguments, as Starlette would.

    Raises:
        ConfigurationError: if the middleware's options are invalid.
    """
    entries = getattr(app, "user_middleware", None)
    if not entries:
        return None
    from .middleware import MaintenanceModeMiddleware

    for entry in entries:
        cls = getattr(entry, "cls", None)
        if isinstance(cls, type) and issubclass(cls, MaintenanceModeMiddleware):
            args = getattr(entry, "args", ())
            kwargs = getattr(entry, "kwargs", None) or getattr(entry, "options", None) or {}
            return cls(app, *args, **kwargs).guard
    return None


def create_app() -> typer.Typer:
    """Build the ``fastapi-maintenance`` typer application.

    Raises:
        ImportError: if typer or rich (the ``cli`` extra) is not installed.
    """
    from maintenance_core.cli import build_cli

    return build_cli(PROG_NAME, __version__, registry, find_guard=find_guard)


def __getattr__(name: str) -> object:
    # ``app``, the typer application, as fastapi-maintenance 0.0.5 named it; built on
    # first use so that ``main`` can report a missing ``cli`` extra in one line.
    if name == "app":
        built = create_app()
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Run the ``fastapi-maintenance`` command (the console script)."""
    run_cli(PROG_NAME, __version__, registry, find_guard=find_guard)
