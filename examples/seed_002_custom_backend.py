"""Context Manager > "Using With Custom Backend" (docs seed 002-context-manager).

``maintenance_mode_on(backend=...)`` overrides only the backend it is given:
``custom_file.txt`` says "on" during the block, while the globally configured
backend (here the default ``FASTAPI_MAINTENANCE_MODE`` variable) is untouched.

Run (writes ``custom_file.txt`` in the current directory):

    uv run python -m examples.seed_002_custom_backend

Completed beyond the docs: ``perform_maintenance_tasks`` (elided there) and
the ``__main__`` block. The docs' path ``/path/to/custom_file.txt`` is a
placeholder; a path relative to the current directory is used instead.
"""

import asyncio

from fastapi_maintenance import (
    get_maintenance_mode,  # not in the docs: for the stand-in
    maintenance_mode_on,
)
from fastapi_maintenance.backends import LocalFileBackend

# Create a specific backend instance
custom_backend = LocalFileBackend(file_path="custom_file.txt")  # docs: "/path/to/custom_file.txt"

# Not in the docs: (custom backend's state, global state) while the tasks ran.
states_during_tasks: list[tuple[bool, bool]] = []


async def perform_maintenance_tasks() -> None:
    """Stand-in for the maintenance tasks the docs elide."""
    states_during_tasks.append(
        (await get_maintenance_mode(custom_backend), await get_maintenance_mode())
    )


async def custom_maintenance_operation():
    # Use the specific backend with the context manager
    async with maintenance_mode_on(backend=custom_backend):
        # This only affects the custom_backend, not the globally configured one
        await perform_maintenance_tasks()


if __name__ == "__main__":
    asyncio.run(custom_maintenance_operation())
    print("custom backend, global backend during the tasks:", states_during_tasks)
