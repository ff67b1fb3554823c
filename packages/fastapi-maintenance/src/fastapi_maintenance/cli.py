"""The ``fastapi-maintenance`` command: show or switch the maintenance mode.

Needs the ``cli`` extra (``pip install 'fastapi-maintenance[cli]'``)::

    fastapi-maintenance status
    fastapi-maintenance on --backend file --file-path maintenance_mode.txt
    fastapi-maintenance off --backend file --file-path maintenance_mode.txt
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maintenance_core.console import run_cli

from . import __version__
from ._state import registry

if TYPE_CHECKING:
    import typer

    app: typer.Typer

__all__ = ["PROG_NAME", "app", "create_app", "main"]

PROG_NAME = "fastapi-maintenance"


def create_app() -> typer.Typer:
    """Build the ``fastapi-maintenance`` typer application.

    Raises:
        ImportError: if typer or rich (the ``cli`` extra) is not installed.
    """
    from maintenance_core.cli import build_cli

    return build_cli(PROG_NAME, __version__, registry)


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
    run_cli(PROG_NAME, __version__, registry)
