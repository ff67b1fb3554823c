"""Wait for something that happens on its own schedule (a file check, a pub/sub
message, a lease expiry) by polling a condition until a deadline.

This is not sleeping as synchronisation: the test proceeds the moment the
condition holds, and fails with the last observed value if it never does.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")

POLL_INTERVAL = 0.01


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - a deadline for polling, not an I/O timeout
) -> T:
    """Call ``await probe()`` until ``accept(result)``; return that result.

    Raises:
        AssertionError: with the last result, if *timeout* seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {result!r}")
        await anyio.sleep(POLL_INTERVAL)


def eventually_sync(
    probe: Callable[[], T],
    accept: Callable[[T], bool],
    *,
    timeout: float = 2.0,
) -> T:
    """The synchronous twin of :func:`eventually`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {result!r}")
        time.sleep(POLL_INTERVAL)
