"""Waiting helpers for the Redis tests: poll a condition against a deadline, never sleep blindly."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable

import anyio
import redis.asyncio as aioredis

Predicate = Callable[[], bool | Awaitable[bool]]

POLL_INTERVAL = 0.01  # seconds between two evaluations of a condition


async def _check(predicate: Predicate) -> bool:
    result = predicate()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


async def eventually(predicate: Predicate, within: float = 5.0, what: str = "") -> float:
    """Wait until *predicate* (sync or async) is true; return how long it took.

    Raises:
        AssertionError: if it is still false after *within* seconds.
    """
    start = time.monotonic()
    deadline = start + within
    while True:
        if await _check(predicate):
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {within}s: {what or predicate}")
        await anyio.sleep(POLL_INTERVAL)


async def stays(predicate: Predicate, duration: float, what: str = "") -> int:
    """Check that *predicate* holds at every poll for *duration* seconds; return the
    number of checks made.

    Raises:
        AssertionError: at the first check where it is false.
    """
    start = time.monotonic()
    checks = 0
    while True:
        checks += 1
        if not await _check(predicate):
            elapsed = time.monotonic() - start
            raise AssertionError(f"stopped being true after {elapsed:.3f}s: {what or predicate}")
        if time.monotonic() - start >= duration:
            return checks
        await anyio.sleep(POLL_INTERVAL)


async def subscribers(raw: aioredis.Redis, channel: str) -> int:
    """How many connections Redis counts as subscribed to *channel*."""
    [(_, count)] = await raw.pubsub_numsub(channel)
    return int(count)


async def wait_subscribed(
    raw: aioredis.Redis, channel: str, count: int = 1, within: float = 5.0
) -> None:
    """Wait until at least *count* connections listen on *channel*, so a message
    published from now on reaches them."""

    async def enough() -> bool:
        return await subscribers(raw, channel) >= count

    await eventually(enough, within, f"{count} subscriber(s) on {channel}")
