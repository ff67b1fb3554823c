"""``python -m litestar_maintenance``: the command line."""

from .cli import main

main()
