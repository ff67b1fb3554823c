"""Entry point of the adapters' console scripts, usable without the ``cli`` extra installed."""

from __future__ import annotations

import sys

from .registry import BackendRegistry

__all__ = ["run_cli"]


def run_cli(prog_name: str, version: str, registry: BackendRegistry) -> None:
    """Build and run the command line; without typer/rich, print one error line and exit 1."""
    try:
        from .cli import build_cli
    except ImportError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    build_cli(prog_name, version, registry)()
