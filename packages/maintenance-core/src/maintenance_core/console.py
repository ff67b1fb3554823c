"""Entry point of the adapters' console scripts, usable without the ``cli`` extra installed."""

from __future__ import annotations

import sys

from ._extras import extra_missing
from .registry import BackendRegistry

__all__ = ["run_cli"]


def run_cli(prog_name: str, version: str, registry: BackendRegistry) -> None:
    """Build and run the command line; without typer/rich, print one error line and exit 1.

    Args:
        prog_name: the command's name, which is also the adapter's distribution
            name (``litestar-maintenance``): the error names its ``cli`` extra.
    """
    try:
        from .cli import build_cli
    except ImportError as exc:
        if extra_missing(exc, "cli"):
            message = (
                f"The {prog_name} command needs typer and rich, which are not installed: "
                f"pip install '{prog_name}[cli]'."
            )
        else:
            message = str(exc)
        print(f"Error: {message}", file=sys.stderr)
        raise SystemExit(1) from None
    build_cli(prog_name, version, registry)()
