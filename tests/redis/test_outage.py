"""Redis going away and coming back under a FastAPI app: requests never fail or wait,
the outage and the recovery are each logged once."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
from collections.abc import Awaitable, Callable

import anyio
import fastapi_maintenance as fm
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from maintenance_core import overrides_of
from maintenance_core.backends.redis import RedisBackend, RedisUnavailableError

from tests.support.redis_server import RedisServer
from tests.support.servers import free_port

from .conftest import BackendFactory
from .helpers import eventually, stays, wait_subscribed
from .proxy import RedisProxy, Rule

pytestmark = pytest.mark.anyio


def _app(backend: RedisBackend) -> FastAPI:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno == level]


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_the_last_known_state_is_served_while_redis_is_down_and_followed_after(
    make_backend: BackendFactory, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    backend = make_backend(url=own_redis.url, resync_interval=30)
    writer = make_backend(url=own_redis.url)
    await writer.set_value(True)
    statuses: list[int] = []

    async with _client(_app(backend)) as http:

        async def answers(status: int) -> bool:
            response = await http.get("/items")
            statuses.append(response.status_code)
            return response.status_code == status

        assert await answers(503)  # state on, known
        assert _errors(caplog) == []

        own_redis.stop()
        await eventually(lambda: _errors(caplog), within=5.0, what="the outage is logged")
        assert await answers(503)
        # Several reconnection attempts later: still the last known state, still one line.
        await stays(lambda: answers(503), duration=1.5, what="503 while Redis is down")
        assert set(statuses) == {503}
        [outage] = _errors(caplog)
        message = outage.getMessage()
        assert "Redis" in message
        assert own_redis.url in message
        assert "last known state: maintenance is on" in message

        # Changing anything needs Redis: that fails loudly, and nothing is counted.
        with pytest.raises(RedisUnavailableError):
            await writer.set_value(False)
        with pytest.raises(RedisUnavailableError):
            async with fm.maintenance_mode_on(backend=backend):
                pytest.fail("the override must not be entered")
        assert overrides_of(backend).held == (0, 0)
        caplog.clear()

        own_redis.start()  # same port, empty: nothing is saved
        restarted = make_backend(url=own_redis.url)
        await restarted.set_value(False)
        await eventually(lambda: answers(200), within=5.0, what="the app follows after restart")
        recovered = [r.getMessage() for r in _records(caplog, logging.WARNING)]
        assert len(recovered) == 1, recovered
        assert "Redis is reachable again" in recovered[0]
        assert "maintenance is off" in recovered[0]
        assert _errors(caplog) == []

        # The app is subscribed again: a change reaches it by message (resync is 30 s away).
        await restarted.set_value(True)
        await eventually(lambda: answers(503), within=1.0, what="the app follows a message")
        assert 500 not in statuses


@pytest.mark.parametrize("fallback", [False, True])
async def test_with_no_state_known_the_fallback_is_served_without_waiting(
    fallback: bool, make_backend: BackendFactory
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    backend = make_backend(url=down, resync_interval=30, fallback=fallback)
    expected = 503 if fallback else 200

    async with _client(_app(backend)) as http:
        start = time.perf_counter()
        first = await http.get("/items")
        assert time.perf_counter() - start < 1.5
        statuses = [first.status_code]
        for _ in range(20):
            start = time.perf_counter()
            response = await http.get("/items")
            assert time.perf_counter() - start < 0.1
            statuses.append(response.status_code)
    assert statuses == [expected] * 21


@pytest.mark.parametrize("fallback", [False, True])
async def test_with_no_state_known_the_outage_is_logged_once_and_the_state_followed_after(
    fallback: bool,
    make_backend: BackendFactory,
    own_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    own_redis.stop()  # down before anything was read
    backend = make_backend(url=own_redis.url, resync_interval=30, fallback=fallback)
    served = 503 if fallback else 200
    word = "on" if fallback else "off"

    async with _client(_app(backend)) as http:

        async def answers(status: int) -> bool:
            return (await http.get("/items")).status_code == status

        await stays(lambda: answers(served), duration=0.5, what="the fallback is served")
        lines = [(r.levelname, r.getMessage()) for r in caplog.records]
        errors = [message for level, message in lines if level == "ERROR"]
        assert len(errors) == 1, lines
        assert "Redis" in errors[0]
        assert f"fallback: maintenance is {word}" in errors[0]
        # Nothing may claim a recovery while Redis is still down.
        assert not any("again" in message for _, message in lines), lines
        caplog.clear()

        own_redis.start()
        writer = make_backend(url=own_redis.url)
        await writer.set_value(not fallback)  # the opposite of the fallback
        await eventually(
            lambda: answers(200 if fallback else 503), within=5.0, what="the stored state"
        )
        recovered = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(recovered) == 1, recovered
        assert "Redis is reachable again" in recovered[0]
        assert _errors(caplog) == []


async def test_redis_killed_outright_is_survived_too(
    make_backend: BackendFactory, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    backend = make_backend(url=own_redis.url, resync_interval=30)
    writer = make_backend(url=own_redis.url)
    await writer.set_value(True)
    async with _client(_app(backend)) as http:
        assert (await http.get("/items")).status_code == 503
        own_redis.kill()  # SIGKILL: connections drop without a goodbye
        await eventually(lambda: _errors(caplog), within=5.0, what="the outage is logged")
        with anyio.fail_after(1):
            assert (await http.get("/items")).status_code == 503
        assert len(_errors(caplog)) == 1


async def test_a_held_lease_survives_a_redis_restart(
    make_backend: BackendFactory, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    ttl = 0.6
    holder = make_backend(url=own_redis.url, resync_interval=30, lease_ttl=ttl)
    other = make_backend(url=own_redis.url, resync_interval=30, lease_ttl=ttl)
    await holder.get_value()
    await other.get_value()

    async def other_on() -> bool:
        return await fm.get_maintenance_mode(other)

    async with fm.maintenance_mode_on(backend=holder):
        await eventually(other_on, within=1.0, what="the other instance is on")
        own_redis.stop()
        # Down: both keep the last known leases.
        await stays(other_on, duration=2 * ttl, what="on while Redis is down")
        assert await fm.get_maintenance_mode(holder) is True

        own_redis.start()  # empty: the lease is gone from Redis...
        client = aioredis.Redis.from_url(own_redis.url)
        try:
            # ...until the holder's renewal puts it back.
            await eventually(
                lambda: client.zcard("maintenance_mode:leases:on"), within=3.0, what="renewed"
            )
        finally:
            await client.aclose()
        await eventually(other_on, within=3.0, what="the other instance is on again")
        await stays(other_on, duration=1.5 * ttl, what="still on after the restart")
        assert await fm.get_maintenance_mode(holder) is True

    await eventually(lambda: _is_off(other), within=1.0, what="off once released")
    renewal_errors = [r for r in _errors(caplog) if "Cannot renew" in r.getMessage()]
    assert len(renewal_errors) == 1, [r.getMessage() for r in renewal_errors]


async def _is_off(backend: RedisBackend) -> bool:
    return not await fm.get_maintenance_mode(backend)


# -- connections opened before a restart -----------------------------------------------------
# Redis is killed and started again while the event loop does not run, so no pooled
# connection has seen its close: each one fails on its first command, as an idle
# connection can in a served app (seen under uvicorn, tests/faults).

_POOLED = 3  # idle connections in the backend's pool before the restart


async def _fill_pool(backend: RedisBackend) -> None:
    await asyncio.gather(*(backend.read_state_now() for _ in range(_POOLED)))


async def _take_and_release_a_lease(backend: RedisBackend) -> None:
    async with fm.maintenance_mode_on(backend=backend):
        pass


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda backend: backend.read_state_now(), id="read"),
        pytest.param(lambda backend: backend.set_value(True), id="write"),
        pytest.param(_take_and_release_a_lease, id="lease"),
        pytest.param(lambda backend: backend.list_instances(), id="instances"),
    ],
)
async def test_the_first_command_after_a_restart_does_not_fail_on_an_old_connection(
    operation: Callable[[RedisBackend], Awaitable[object]],
    make_backend: BackendFactory,
    own_redis: RedisServer,
) -> None:
    backend = make_backend(url=own_redis.url, resync_interval=30)
    await _fill_pool(backend)
    own_redis.kill()
    own_redis.start()
    await operation(backend)  # raised RedisUnavailableError ("Connection closed by server")


async def test_a_restart_over_before_it_is_noticed_is_not_logged_as_an_outage(
    make_backend: BackendFactory, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    backend = make_backend(url=own_redis.url, resync_interval=30)
    client = aioredis.Redis.from_url(own_redis.url)
    try:
        assert await backend.get_value() is False  # starts the sync task
        await wait_subscribed(client, backend.channel)
        await _fill_pool(backend)
        own_redis.kill()
        own_redis.start()  # empty, and the subscription is gone with the old server
        writer = make_backend(url=own_redis.url)
        await writer.set_value(True)
        # The sync task subscribes again and reads the state (resync is 30 s away).
        await eventually(backend.get_value, within=3.0, what="the state written after it")
    finally:
        await client.aclose()
    assert _errors(caplog) == [], [r.getMessage() for r in _errors(caplog)]
    assert backend.problem is None


async def test_a_redis_that_does_not_answer_is_asked_once_not_twice(
    make_backend: BackendFactory, own_redis: RedisServer
) -> None:
    backend = make_backend(url=own_redis.url, resync_interval=30, socket_timeout=0.3)
    await backend.read_state_now()  # one pooled connection, in use before the hang
    observer = aioredis.Redis.from_url(own_redis.url)  # one connection, opened now
    assert own_redis.process is not None
    try:
        before = (await observer.info("stats"))["total_connections_received"]
        own_redis.process.send_signal(signal.SIGSTOP)  # hung: accepts, never answers
        try:
            with pytest.raises(RedisUnavailableError, match="Timeout"):
                await backend.read_state_now()
        finally:
            own_redis.process.send_signal(signal.SIGCONT)
        after = (await observer.info("stats"))["total_connections_received"]
    finally:
        await observer.aclose()
    assert after == before  # a second try would have opened a new connection


async def test_commands_started_together_after_a_restart_all_find_a_live_connection(
    make_backend: BackendFactory, own_redis: RedisServer
) -> None:
    backend = make_backend(url=own_redis.url, resync_interval=30)
    operations: list[Callable[[], Awaitable[object]]] = [
        backend.read_state_now,
        backend.list_instances,
        lambda: backend.set_value(True),
    ]
    staggering = random.Random(14)  # the same interleavings on every run

    async def after(steps: int, operation: Callable[[], Awaitable[object]]) -> object:
        for _ in range(steps):
            await asyncio.sleep(0)  # starts it while the others are between two steps
        return await operation()

    for _ in range(10):
        await asyncio.gather(*(backend.read_state_now() for _ in range(20)))
        own_redis.kill()
        own_redis.start()
        results = await asyncio.gather(
            *(after(staggering.randrange(12), operations[i % 3]) for i in range(10)),
            return_exceptions=True,
        )
        # A command that lost its connection is sent again once the pool's other idle
        # connections, as dead as its own, are closed: it cannot pick one of them.
        assert [r for r in results if isinstance(r, BaseException)] == []


async def test_a_write_whose_reply_is_lost_is_applied_once(
    make_backend: BackendFactory, redis_server: RedisServer, raw: aioredis.Redis
) -> None:
    async with RedisProxy(redis_server.port).running() as proxy:
        backend = make_backend(url=proxy.url, resync_interval=30)
        await backend.set_value(False)  # Redis knows the write's script from now on
        generation = int(await raw.get("maintenance_mode:generation"))
        lost = Rule(b"maintenance_mode:write:", "drop_reply")
        proxy.rules.append(lost)

        await backend.set_value(True)  # applied, its reply lost, sent again

    assert lost.seen == 2
    assert await raw.get("maintenance_mode") == b"1"
    assert int(await raw.get("maintenance_mode:generation")) == generation + 1
    marks = await raw.keys("maintenance_mode:write:*")
    assert len(marks) == 2  # one per write, not one per sending
    for mark in marks:
        assert 0 < await raw.pttl(mark) <= 60_000  # it goes away by itself


async def test_a_subscription_that_keeps_breaking_is_reported_not_spun_on(
    make_backend: BackendFactory,
    redis_server: RedisServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with RedisProxy(redis_server.port).running() as proxy:
        breaking = Rule(b"SUBSCRIBE", "close_after_reply", times=None)
        proxy.rules.append(breaking)
        backend = make_backend(url=proxy.url, resync_interval=30)
        assert await backend.get_value() is False  # starts the sync task
        await eventually(
            lambda: _errors(caplog), within=5.0, what="the breaking subscription is logged"
        )
        # Subscribed once, tried again at once once, then reported: no silent loop.
        assert breaking.seen <= 5
        assert isinstance(backend.problem, Exception)


async def test_an_authentication_error_is_not_tried_again(
    make_backend: BackendFactory, own_redis: RedisServer
) -> None:
    observer = aioredis.Redis.from_url(own_redis.url)  # one connection, opened now
    try:
        await observer.config_set("requirepass", "right-password")
        before = (await observer.info("stats"))["total_connections_received"]
        backend = make_backend(url=f"redis://:wrong-password@127.0.0.1:{own_redis.port}/0")
        with pytest.raises(RedisUnavailableError):
            await backend.read_state_now()
        after = (await observer.info("stats"))["total_connections_received"]
    finally:
        await observer.aclose()
    assert after == before + 1  # one attempt: a second would have opened a new connection
