"""``MemoryBackend``: the state in this process's memory."""

from __future__ import annotations

from ..events import announce_change
from ..state import OFF, ON, MaintenanceState
from .base import StateBackend

__all__ = ["MemoryBackend"]


class MemoryBackend(StateBackend):
    """Keep the state in this process's memory (tests, single-process apps).

    Args:
        value: The initial state.
    """

    def __init__(self, value: bool = False) -> None:
        self._state = ON if value else OFF

    async def get_state(self) -> MaintenanceState:
        return self._state

    async def set_state(self, state: MaintenanceState) -> None:
        old, self._state = self._state, state
        announce_change(self, old, state, "local")

    def describe(self) -> str:
        return "memory"
