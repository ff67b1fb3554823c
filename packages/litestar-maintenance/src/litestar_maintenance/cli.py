"""The maintenance command line for Litestar apps (extra ``cli``).

Two ways to run it:

- ``litestar --app app:app maintenance status|on|off``: the subcommand that
  :class:`~litestar_maintenance.MaintenancePlugin` adds to Litestar's own CLI.
  It acts on the backend of the app Litestar loads (``--app``,
  ``LITESTAR_APP`` or autodiscovery), with nothing to repeat.
- ``litestar-maintenance status|on|off`` (or ``python -m
  litestar_maintenance``), the standalone command: on the backend the options
  describe, or on that of the app named by ``--app module:attribute``
  (``LITESTAR_MAINTENANCE_APP``). Without ``--app`` it does not import Litestar.

::

    litestar --app app:app maintenance on --for 30m --with-secret
    litestar-maintenance status --file-path maintenance_mode.txt --json
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maintenance_core.console import run_cli

from . import __version__
from ._state import registry

if TYPE_CHECKING:
    import click
    from maintenance_core.cli import AppTarget
    from maintenance_core.middleware import MaintenanceGuard

    from .plugin import MaintenancePlugin

__all__ = ["COMMAND_NAME", "PROG_NAME", "find_guard", "litestar_command", "main"]

PROG_NAME = "litestar-maintenance"

COMMAND_NAME = "maintenance"
"""The name of the subcommand in Litestar's CLI: ``litestar maintenance``."""


def find_guard(app: object) -> MaintenanceGuard | None:
    """The guard of a Litestar app's :class:`~litestar_maintenance.MaintenancePlugin`,
    else of a :class:`~litestar_maintenance.MaintenanceModeMiddleware` instance in its
    ``middleware`` list, else ``None``."""
    from .middleware import MaintenanceModeMiddleware
    from .plugin import MaintenancePlugin

    for plugin in getattr(app, "plugins", None) or ():
        if isinstance(plugin, MaintenancePlugin):
            return plugin.middleware.guard
    for middleware in getattr(app, "middleware", None) or ():
        if isinstance(middleware, MaintenanceModeMiddleware):
            return middleware.guard
    return None


def litestar_command(plugin: MaintenancePlugin) -> click.Command:
    """The ``maintenance`` command :class:`~litestar_maintenance.MaintenancePlugin`
    adds to Litestar's CLI, acting on *plugin*'s backend.

    A click command that hands its arguments to the shared command line
    (``status``, ``on``, ``off`` and their options, ``--help``), so that it
    behaves exactly like ``litestar-maintenance`` without the backend options.
    """
    import click

    def target() -> AppTarget:
        from maintenance_core.cli import AppTarget

        return AppTarget(plugin.backend, plugin.config.enable_maintenance, "the Litestar app")

    @click.command(
        name=COMMAND_NAME,
        help="Show or switch this app's maintenance mode: status, on, off "
        f"(litestar {COMMAND_NAME} --help).",
        context_settings={
            "ignore_unknown_options": True,
            "allow_extra_args": True,
            "allow_interspersed_args": False,
        },
        add_help_option=False,
    )
    @click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
    def maintenance(arguments: tuple[str, ...]) -> None:
        run_cli(
            f"litestar {COMMAND_NAME}",
            __version__,
            registry,
            args=list(arguments),
            app_backend=target,
            distribution=PROG_NAME,
            version_name=PROG_NAME,
        )

    return maintenance


def main() -> None:
    """Run the ``litestar-maintenance`` command (the console script)."""
    run_cli(PROG_NAME, __version__, registry, find_guard=find_guard)
