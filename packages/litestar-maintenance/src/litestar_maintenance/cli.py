"""The ``litestar-maintenance`` command (extra ``cli``): ``status``, ``on``, ``off``.

litestar-maintenance status
litestar-maintenance on --backend file --file-path maintenance_mode.txt
"""

from __future__ import annotations

from maintenance_core.console import run_cli

from . import __version__
from ._state import registry

__all__ = ["PROG_NAME", "main"]

PROG_NAME = "litestar-maintenance"


def main() -> None:
    """Run the ``litestar-maintenance`` command (the console script)."""
    run_cli(PROG_NAME, __version__, registry)
