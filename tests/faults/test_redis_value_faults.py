"""A garbage value in the Redis key, under a FastAPI app on ``RedisBackend``.

Redis is up; only the stored value is bad (a hand-written ``SET``, another tool
sharing the key). The same promise as for a bad file applies: the last known
state (else off) is served, one log line names the problem and the state used,
and the app follows as soon as a valid value is stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import RedisBackend

from tests.support.redis_server import RedisServer

from .support import library_records, problem_with, shown, status_for, wait_until, word

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"
REQUESTS = 50

GARBAGE = [
    # Described (length, kind), never repeated: a stored value can hold secrets.
    pytest.param(b"maybe", "InvalidStateValueError", "(5 characters)", id="word"),
    pytest.param(b'{"on": "yes"}', "InvalidStateValueError", "(13 characters)", id="bad-json"),
    pytest.param(b"\xff\xfe", "InvalidStateValueError", "not UTF-8 text", id="binary"),
    pytest.param(b"1" * 70_000, "InvalidStateValueError", "larger than a state", id="huge"),
]


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def backend(redis_server: RedisServer) -> AsyncIterator[RedisBackend]:
    instance = RedisBackend(redis_server.url)
    yield instance
    await instance.aclose()


@pytest.fixture
async def http(backend: RedisBackend) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


@pytest.fixture
def library_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="fastapi_maintenance")
    return caplog


async def _store(raw: aioredis.Redis, value: bytes) -> None:
    async with raw.pipeline(transaction=True) as pipe:
        pipe.set(KEY, value)
        pipe.publish(CHANNEL, "state")
        await pipe.execute()


async def _statuses(http: httpx.AsyncClient, count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        response = await http.get("/items")
        problem = problem_with(response.status_code, response.headers, response.content)
        assert problem is None, problem
        statuses.append(response.status_code)
    return statuses


async def _reads(raw: aioredis.Redis) -> int:
    """How many times Redis ran a script so far: every read of the state is one."""
    stats = await raw.info("commandstats")
    names = ("cmdstat_eval", "cmdstat_evalsha")  # scripts are called by SHA (EVALSHA)
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in names)


def _assert_one_error(caplog: pytest.LogCaptureFixture, error: str, value: str, used: str) -> None:
    records = library_records(caplog)
    assert [record.levelno for record in records] == [logging.ERROR], shown(records)
    message = records[0].getMessage()
    assert KEY in message, message
    assert error in message, message
    assert value in message, message
    assert used in message, message
    # Redis answers: the problem is the value, and the line must say so.
    assert "unreachable" not in message, message


def _assert_one_recovery(caplog: pytest.LogCaptureFixture, on: bool) -> None:
    records = library_records(caplog)
    assert [record.levelno for record in records] == [logging.WARNING], shown(records)
    message = records[0].getMessage()
    assert "again" in message, message
    assert f"maintenance is {word(on)}" in message, message


@pytest.mark.parametrize(
    "before", [pytest.param(True, id="was-on"), pytest.param(False, id="was-off")]
)
@pytest.mark.parametrize(("garbage", "error", "shown_value"), GARBAGE)
async def test_a_garbage_value_keeps_the_last_known_state_and_is_named_in_one_line(
    garbage: bytes,
    error: str,
    shown_value: str,
    before: bool,
    raw: aioredis.Redis,
    http: httpx.AsyncClient,
    library_log: pytest.LogCaptureFixture,
) -> None:
    await _store(raw, b"1" if before else b"0")
    assert await _statuses(http, 5) == [status_for(before)] * 5

    await _store(raw, garbage)

    async def noticed() -> bool:
        assert await _statuses(http, 1) == [status_for(before)]
        return bool(library_records(library_log))

    await wait_until(noticed, within=5.0, what="the bad value is noticed")
    assert await _statuses(http, REQUESTS) == [status_for(before)] * REQUESTS
    _assert_one_error(
        library_log, error, shown_value, f"the last known state: maintenance is {word(before)}"
    )
    library_log.clear()

    await _store(raw, b"0" if before else b"1")

    async def follows() -> bool:
        return await _statuses(http, 1) == [status_for(not before)]

    await wait_until(follows, within=5.0, what="the app follows the repaired value")
    assert await _statuses(http, REQUESTS) == [status_for(not before)] * REQUESTS
    _assert_one_recovery(library_log, not before)


@pytest.mark.parametrize(("garbage", "error", "shown_value"), GARBAGE)
async def test_with_a_garbage_value_from_the_start_off_is_served_and_logged_once(
    garbage: bytes,
    error: str,
    shown_value: str,
    raw: aioredis.Redis,
    http: httpx.AsyncClient,
    library_log: pytest.LogCaptureFixture,
) -> None:
    await _store(raw, garbage)  # before the app's first request
    reads_before = await _reads(raw)

    # The first request reads Redis itself, and the background sync reads it again:
    # wait until a third read shows that both have met the bad value.
    async def read_thrice() -> bool:
        assert await _statuses(http, 1) == [200]
        return await _reads(raw) >= reads_before + 3

    await wait_until(read_thrice, within=5.0, what="the bad value was read three times")
    assert await _statuses(http, REQUESTS) == [200] * REQUESTS
    _assert_one_error(library_log, error, shown_value, "maintenance is off")
    library_log.clear()

    await _store(raw, b"1")

    async def follows() -> bool:
        return await _statuses(http, 1) == [503]

    await wait_until(follows, within=5.0, what="the app follows the repaired value")
    assert await _statuses(http, REQUESTS) == [503] * REQUESTS
    _assert_one_recovery(library_log, True)
