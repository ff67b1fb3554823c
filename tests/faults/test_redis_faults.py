"""``redis-server`` killed and restarted under load, behind a real uvicorn server.

A FastAPI app on ``RedisBackend`` (tests/faults/apps/redis_app.py) runs in a
uvicorn subprocess, its output kept in a file; the test keeps 50 requests in
flight the whole time, kills Redis with SIGKILL, starts it again on the same
port with the same data directory (the state was saved there, so it survives),
then flips the state with a plain write to Redis, and does it all a second
time. So each run sees one outage with maintenance on and one with it off; the
two parameters swap the order.

Documented (docs/backends.md, "When Redis is unreachable"): processes keep
serving the last state they knew, log the outage once as an error and its end
once as a warning, and reconnect; a request never waits on the outage.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import anyio.to_thread
import pytest
import redis.asyncio as aioredis

from tests.support.redis_server import RedisServer

from .support import Load, Outcome, Reply, ServedApp, serve, status_for, wait_until, word

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"
CONNECTIONS = 50
OUTAGE_REQUESTS = 800  # requests answered while Redis is down, per outage
SETTLED_REQUESTS = 150  # requests answered between two events

UNREACHABLE = "ERROR fastapi_maintenance.redis Redis is unreachable"
REACHABLE_AGAIN = "WARNING fastapi_maintenance.redis Redis is reachable again"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=CONNECTIONS + 1)  # one more for the probes
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        yield client


async def _store(url: str, on: bool) -> None:
    """Write the state the way the library does: the key, then a change message."""
    client = aioredis.Redis.from_url(url)
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.set(KEY, "1" if on else "0")
            pipe.publish(CHANNEL, "state")
            await pipe.execute()
    finally:
        await client.aclose()


async def _save(url: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await client.save()
    finally:
        await client.aclose()


async def _get(session: aiohttp.ClientSession, url: str) -> Reply:
    async with session.get(url) as response:
        return Reply(response.status, response.headers, await response.read())


@dataclass(frozen=True)
class Flip:
    """The state was written at *written*, and a probe saw the app follow at *followed*."""

    on: bool
    written: float
    followed: float


def _expected(outcome: Outcome, first: bool, flips: list[Flip]) -> set[int]:
    """The statuses a request may get, given when it was sent and answered."""
    state = first
    for flip in flips:
        if outcome.ended <= flip.written:
            return {status_for(state)}
        if outcome.started < flip.followed:
            return {status_for(state), status_for(flip.on)}  # it overlapped the change
        state = flip.on
    return {status_for(state)}


def _library_lines(served: ServedApp) -> list[str]:
    return [line for line in served.lines() if " fastapi_maintenance." in line]


def _count(served: ServedApp, prefix: str) -> int:
    return sum(line.startswith(prefix) for line in served.lines())


@pytest.mark.parametrize("first", [pytest.param(True, id="on"), pytest.param(False, id="off")])
async def test_redis_killed_and_restarted_under_load(
    first: bool,
    redis_server: RedisServer,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    url = redis_server.url
    await _store(url, first)
    with serve(
        "tests.faults.apps.redis_app:app",
        log_path=tmp_path / "uvicorn.log",
        env={"REDIS_URL": url},
    ) as served:
        items = f"{served.url}/items"

        async def probe_sees(status: int) -> bool:
            return (await _get(session, items)).status == status

        await wait_until(
            lambda: probe_sees(status_for(first)), within=5.0, what="the app serves the state"
        )

        def logged(prefix: str, count: int) -> Callable[[], bool]:
            return lambda: _count(served, prefix) >= count

        def follows(on: bool) -> Callable[[], Awaitable[bool]]:
            return lambda: probe_sees(status_for(on))

        flips: list[Flip] = []
        state = first
        async with Load(lambda: _get(session, items), workers=CONNECTIONS) as load:
            await load.wait_for_more(SETTLED_REQUESTS, what="before the first outage")
            for outage in (1, 2):
                await _save(url)  # the restarted server loads the same data from its directory
                await anyio.to_thread.run_sync(redis_server.kill)  # SIGKILL
                await wait_until(
                    logged(UNREACHABLE, outage),
                    within=5.0,
                    what=f"outage {outage} is logged",
                    details=served.output,
                )
                await load.wait_for_more(OUTAGE_REQUESTS, what=f"during outage {outage}")

                await anyio.to_thread.run_sync(redis_server.start)  # same port, same directory
                await wait_until(
                    logged(REACHABLE_AGAIN, outage),
                    within=5.0,
                    what=f"the end of outage {outage} is logged",
                    details=served.output,
                )
                await load.wait_for_more(SETTLED_REQUESTS, what=f"after outage {outage}")

                state = not state
                written = time.monotonic()
                await _store(url, state)
                await wait_until(
                    follows(state),
                    within=5.0,
                    what=f"the app follows the write after outage {outage}",
                    details=served.output,
                )
                flips.append(Flip(state, written, time.monotonic()))
                await load.wait_for_more(SETTLED_REQUESTS, what=f"after flip {outage}")

        output = served.output()

    # No 500, no connection error, no maintenance response other than the documented one.
    problems = load.problems()
    assert problems == [], f"{len(problems)} of {len(load.outcomes)} requests: {problems[:10]}"
    wrong = [o for o in load.outcomes if o.status not in _expected(o, first, flips)]
    assert wrong == [], f"{len(wrong)} of {len(load.outcomes)} requests: {wrong[:10]}"

    # One line for each outage and one for each recovery, each naming the state served:
    # the state before the outage, which the restarted Redis still holds.
    where = f"(redis: {url} key {KEY}"
    expected: list[tuple[str, str]] = []
    for on in (first, not first):
        expected += [
            (
                f"{UNREACHABLE} {where}: ",
                f"; keeping the last known state: maintenance is {word(on)} until it is back"
                " (on_state_error decides what requests get).",
            ),
            (f"{REACHABLE_AGAIN} {where}): maintenance is {word(on)}.", ""),
        ]
    lines = _library_lines(served)
    assert len(lines) == len(expected), output
    for line, (start, end) in zip(lines, expected, strict=True):
        assert line.startswith(start), f"{line!r} should start with {start!r}\n{output}"
        assert line.endswith(end), f"{line!r} should end with {end!r}\n{output}"
    assert "Traceback" not in output, output
    assert "Exception in ASGI application" not in output, output
