"""``python -m maintenance_core``: the maintenance command for plain ASGI apps.

The same ``status``, ``on`` and ``off`` as ``fastapi-maintenance`` and
``litestar-maintenance``, with the core's own defaults: the ``env`` backend
reads ``MAINTENANCE_MODE``, the options' variables are ``MAINTENANCE_BACKEND``,
``MAINTENANCE_FILE_PATH``, ``MAINTENANCE_SECRET``... and ``--app`` finds the
:class:`~maintenance_core.MaintenanceMiddleware` wrapping an app::

    python -m maintenance_core --app myproject.asgi:application status
    python -m maintenance_core on --file-path /srv/app/maintenance_mode.txt --for 30m

Needs the ``cli`` extra (``pip install 'maintenance-core[cli]'``).
"""

from __future__ import annotations

from . import __version__
from ._extras import redis_factory
from .backends.env import EnvVarBackend
from .console import run_cli
from .registry import BackendRegistry

__all__ = ["main", "registry"]

PROG_NAME = "python -m maintenance_core"

registry = BackendRegistry(
    "maintenance_core", EnvVarBackend, {"redis": redis_factory("maintenance-core")}
)
"""The registry of the command: ``env`` reads ``MAINTENANCE_MODE``."""


def main() -> None:
    """Run the command."""
    run_cli(
        PROG_NAME,
        __version__,
        registry,
        distribution="maintenance-core",
        version_name="maintenance-core",
    )


if __name__ == "__main__":
    main()
