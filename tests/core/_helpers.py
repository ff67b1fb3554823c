"""Small framework-free helpers shared by the core tests."""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from maintenance_core import EnvVarBackend, MemoryBackend
from maintenance_core.state import MaintenanceState


def names_in(directory: Path) -> list[str]:
    """The sorted file names in *directory* (sync, for use in async tests)."""
    return sorted(os.listdir(directory))


class Holder:
    """Holds one async context manager in a task of its own.

    The test decides exactly when the task enters and when it leaves, so the order
    in which tasks enter and leave is fixed without any sleep.
    """

    def __init__(self, cm: AbstractAsyncContextManager[Any]) -> None:
        self.cm = cm
        self._release = anyio.Event()
        self._left = anyio.Event()
        self.entered = anyio.Event()
        self.scope: anyio.CancelScope | None = None
        self.inside = False

    async def _run(self, *, task_status: TaskStatus[None]) -> None:
        try:
            with anyio.CancelScope() as scope:
                self.scope = scope
                async with self.cm:
                    self.inside = True
                    self.entered.set()
                    task_status.started()
                    try:
                        await self._release.wait()
                    finally:
                        self.inside = False
        finally:
            self._left.set()

    async def enter(self, tg: TaskGroup) -> None:
        """Start the task and return once it is inside the block."""
        await tg.start(self._run)

    def let_go(self) -> None:
        """Let the task leave the block, without waiting for it."""
        self._release.set()

    async def leave(self) -> None:
        """Let the task leave the block and wait until it has."""
        self._release.set()
        await self._left.wait()

    async def cancel(self) -> None:
        """Cancel the task while it is inside the block and wait until it is gone."""
        assert self.scope is not None
        self.scope.cancel()
        await self._left.wait()


class SpyMemoryBackend(MemoryBackend):
    """A memory backend that records reads and writes and can be made to fail."""

    def __init__(self, value: bool = False) -> None:
        super().__init__(value)
        self.reads = 0
        self.writes: list[bool] = []
        self.fail_get: BaseException | None = None
        self.fail_set: BaseException | None = None

    async def get_state(self) -> MaintenanceState:
        self.reads += 1
        if self.fail_get is not None:
            raise self.fail_get
        return await super().get_state()

    async def set_state(self, state: MaintenanceState) -> None:
        if self.fail_set is not None:
            raise self.fail_set
        self.writes.append(state.on)
        await super().set_state(state)


class SpyEnvBackend(EnvVarBackend):
    """The read-only environment backend, counting calls to ``set_value``."""

    def __init__(self, var_name: str | None = None) -> None:
        super().__init__(var_name)
        self.set_calls: list[bool] = []

    async def set_state(self, state: MaintenanceState) -> None:
        self.set_calls.append(state.on)
        await super().set_state(state)
