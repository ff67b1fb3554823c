"""A FIFO async lock for objects that outlive one event loop."""

from __future__ import annotations

from collections import deque

import anyio

__all__ = ["Mutex"]


class Mutex:
    """A FIFO async lock that is not tied to one event loop at creation.

    Overrides and backends often outlive an event loop (module-level defaults,
    test suites, ``TestClient`` portals), so the lock makes its wake-up events
    only when a task actually has to wait. Taking it uncontended never awaits.
    """

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[anyio.Event] = deque()

    def locked(self) -> bool:
        """Whether a task holds the lock."""
        return self._locked

    async def __aenter__(self) -> None:
        if not self._locked:
            self._locked = True
            return
        event = anyio.Event()
        self._waiters.append(event)
        try:
            await event.wait()
        except BaseException:
            if event.is_set():
                # Ownership was handed to us while we were being cancelled: pass it on.
                self._release()
            else:
                self._waiters.remove(event)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()
        else:
            self._locked = False
