"""Entry point of the adapters' console scripts, usable without the ``cli`` extra installed.

Nothing here imports typer, rich or a web framework: the command line is built
on use, and ``fastapi-maintenance status --file-path ...`` imports FastAPI
only if ``--app`` names a FastAPI app.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._extras import extra_missing
from .registry import BackendRegistry

if TYPE_CHECKING:
    from .cli import AppTarget
    from .middleware import MaintenanceGuard

__all__ = ["run_cli"]


def run_cli(
    prog_name: str,
    version: str,
    registry: BackendRegistry,
    *,
    args: Sequence[str] | None = None,
    find_guard: Callable[[object], MaintenanceGuard | None] | None = None,
    app_backend: Callable[[], AppTarget] | None = None,
    distribution: str | None = None,
    version_name: str | None = None,
) -> None:
    """Build and run the command line, then exit with its exit code.

    Every error is one ``Error: ...`` line on standard error; without typer and
    rich, the line says which extra to install.

    Args:
        prog_name: the command's name, as usage lines and examples show it.
        version: the adapter's version.
        registry: the adapter's registry.
        args: the arguments (default: ``sys.argv[1:]``).
        find_guard: how ``--app`` finds the maintenance guard in an app of the
            adapter's framework; see :func:`maintenance_core.cli.build_cli`.
        app_backend: for a command that belongs to one app, the target it acts on.
        distribution: the distribution whose ``cli`` extra the error names;
            *prog_name* by default (``litestar-maintenance``).
        version_name: the name ``--version`` prints; *prog_name* by default.

    Raises:
        SystemExit: always, with the command's exit code.
    """
    package = distribution or prog_name
    try:
        from .cli import build_cli, run
    except ImportError as exc:
        if extra_missing(exc, "cli"):
            message = (
                f"The {prog_name} command needs typer and rich, which are not installed: "
                f"pip install '{package}[cli]'."
            )
        else:
            message = str(exc)
        print(f"Error: {message}", file=sys.stderr)
        raise SystemExit(1) from None
    app = build_cli(
        prog_name,
        version,
        registry,
        find_guard=find_guard,
        app_backend=app_backend,
        version_name=version_name,
    )
    raise SystemExit(run(app, args, prog_name))
