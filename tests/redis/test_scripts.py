"""RedisBackend's Lua scripts run by SHA (``EVALSHA``): their source reaches the server
once, not with every read, lease and heartbeat, and a server that lost them (a
restart, a failover, ``SCRIPT FLUSH``) gets them again without a fault.

Counted with ``INFO commandstats`` and ``INFO errorstats`` of a redis-server of the
test's own, so nothing else runs commands on it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import fastapi_maintenance as fm
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from maintenance_core import overrides_of
from maintenance_core.backends.redis import RedisBackend, RedisUnavailableError
from maintenance_core.drain import inflight_of, list_instances, wait_drained
from maintenance_core.events import BackendProblem, on_backend_problem
from maintenance_core.state import OFF, ON
from redis.exceptions import ResponseError

from tests.support.redis_server import RedisServer

from .conftest import BackendFactory
from .helpers import eventually, wait_subscribed

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"
LEASES_OFF = f"{KEY}:leases:off"
INSTANCES = f"{KEY}:instances"
ROUNDS = 5


@pytest.fixture
async def server(own_redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A plain client of the test's own server, to count what it ran and to flush it."""
    client = aioredis.Redis.from_url(own_redis.url)
    yield client
    await client.aclose()


async def _counts(raw: aioredis.Redis) -> dict[str, int]:
    """Calls of EVAL (the source sent), EVALSHA, SCRIPT LOAD, and NOSCRIPT answers so far."""
    commands = await raw.info("commandstats")
    errors = await raw.info("errorstats")

    def calls(*names: str) -> int:
        return sum(int(commands[name]["calls"]) for name in names if name in commands)

    return {
        "eval": calls("cmdstat_eval", "cmdstat_eval_ro"),
        "evalsha": calls("cmdstat_evalsha", "cmdstat_evalsha_ro"),
        # Redis 7 counts subcommands apart; before, every SCRIPT subcommand is one.
        "script load": calls("cmdstat_script|load") or calls("cmdstat_script"),
        "noscript": int(errors.get("errorstat_NOSCRIPT", {}).get("count", 0)),
    }


def _since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after}


async def _exercise(backend: RedisBackend, raw: aioredis.Redis) -> None:
    """Run every script of *backend*: reads, a write and its re-read, leases taken,
    renewed and dropped, heartbeats, the fleet listed and drained, and the instance
    leaving when closed."""
    inflight_of(backend).serving = True  # an instance of the fleet, as under a middleware
    assert await backend.get_state() == OFF
    await eventually(
        lambda: _listed(backend),
        within=5,
        what="the heartbeat lists the instance",
    )
    for round_ in range(ROUNDS):
        assert await backend.read_state_now() == OFF
        await backend.set_state(ON if round_ % 2 else OFF)
        assert await backend.read_state_now() == (ON if round_ % 2 else OFF)
        async with fm.maintenance_mode_off(backend=backend):
            assert await raw.zcard(LEASES_OFF) == 1
        assert await raw.zcard(LEASES_OFF) == 0
        await backend.set_state(OFF)
    async with fm.maintenance_mode_off(backend=backend):
        [(_, taken)] = await raw.zrange(LEASES_OFF, 0, 0, withscores=True)
        await eventually(lambda: _renewed(raw, taken), within=5, what="the lease is renewed")
    result = await wait_drained(backend, 5)
    assert result.drained, result.summary()
    await backend.aclose()
    assert await raw.zcard(INSTANCES) == 0  # left the fleet when closed


async def _listed(backend: RedisBackend) -> bool:
    return [s.instance for s in await list_instances(backend)] == [backend.instance_id]


async def _renewed(raw: aioredis.Redis, taken: float) -> bool:
    score = await raw.zscore(LEASES_OFF, await _only_member(raw))
    return score is not None and score > taken


async def _only_member(raw: aioredis.Redis) -> bytes:
    [member] = await raw.zrange(LEASES_OFF, 0, -1)
    return bytes(member)


async def test_scripts_are_called_by_sha_and_their_source_is_not_sent_again(
    own_redis: RedisServer, make_backend: BackendFactory, server: aioredis.Redis
) -> None:
    settings = {"lease_ttl": 0.3, "heartbeat_interval": 0.05, "resync_interval": 0.1}
    start = await _counts(server)

    # Warm up: a first instance runs every script, so the server has them all.
    await _exercise(make_backend(url=own_redis.url, **settings), server)
    warm = await _counts(server)
    warm_up = _since(start, warm)
    assert warm_up["eval"] == 0, warm_up  # the source goes with SCRIPT LOAD only
    assert warm_up["script load"] >= 6, warm_up  # each script, loaded when first unknown

    # Another instance (or this process restarted) does it all again, many calls:
    # only SHAs travel now, and nothing is loaded again.
    await _exercise(make_backend(url=own_redis.url, **settings), server)
    measured = _since(warm, await _counts(server))
    assert measured["eval"] == 0, measured
    assert measured["script load"] == 0, measured
    assert measured["noscript"] == 0, measured
    # Per round at least: two reads, a lease taken and dropped, the read after it.
    assert measured["evalsha"] >= ROUNDS * 5, measured


def _app(backend: RedisBackend) -> FastAPI:
    # on_state_error="on": a fault while maintenance is off would answer 503.
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend, on_state_error="on")

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    return app


@contextmanager
def _no_fault(
    backends: list[RedisBackend], caplog: pytest.LogCaptureFixture
) -> Iterator[list[BackendProblem]]:
    problems: list[BackendProblem] = []
    unsubscribe = [on_backend_problem(backend, problems.append) for backend in backends]
    try:
        yield problems
    finally:
        for stop in unsubscribe:
            stop()
    assert problems == []
    assert [backend.problem for backend in backends] == [None] * len(backends)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == []


async def test_a_flushed_script_cache_is_reloaded_without_a_fault(
    own_redis: RedisServer,  # first: the backends are closed before it stops
    make_backend: BackendFactory,
    server: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    backend = make_backend(
        url=own_redis.url, lease_ttl=0.3, heartbeat_interval=0.05, resync_interval=30
    )
    reader = make_backend(url=own_redis.url, resync_interval=30)
    transport = httpx.ASGITransport(app=_app(backend))
    http = httpx.AsyncClient(transport=transport, base_url="http://app")

    async def status() -> int:
        return (await http.get("/items")).status_code

    async with http:
        with _no_fault([backend, reader], caplog):
            assert await status() == 200  # the middleware serves: an instance of the fleet
            assert await reader.get_value() is False
            await wait_subscribed(server, CHANNEL, count=2)
            await eventually(lambda: _listed(backend), within=5, what="the instance is listed")
            start = await _counts(server)
            flushes = 0

            async def flush() -> None:
                nonlocal flushes
                assert await server.script_flush() is True
                flushes += 1

            # A read.
            await flush()
            assert await backend.read_state_now() == OFF
            assert await status() == 200

            # A write, which every instance re-reads.
            await flush()
            await backend.set_value(True)
            await eventually(reader.get_value, within=5, what="the reader sees on")
            assert await status() == 503

            # A lease taken, renewed and dropped, each after a flush.
            await flush()
            async with fm.maintenance_mode_off(backend=backend):
                assert await _zcard(server, LEASES_OFF) == 1
                assert await status() == 200
                await eventually(
                    lambda: overrides_of(reader).held_everywhere == (0, 1),
                    within=5,
                    what="the reader sees the lease",
                )
                taken = await server.zscore(LEASES_OFF, await _only_member(server))
                assert taken is not None
                await flush()
                await eventually(
                    lambda: _renewed(server, taken), within=5, what="the lease is renewed"
                )
                await flush()
            assert await _zcard(server, LEASES_OFF) == 0
            assert await status() == 503
            await eventually(
                lambda: overrides_of(reader).held_everywhere == (0, 0),
                within=5,
                what="the reader sees the lease gone",
            )

            # Heartbeats go on, and the fleet is listed and drained.
            [(_, beat)] = await server.zrange(INSTANCES, 0, 0, withscores=True)
            await flush()
            await eventually(
                lambda: _beat_after(server, beat), within=5, what="a heartbeat after the flush"
            )
            await flush()
            assert await _listed(backend)
            await flush()
            result = await wait_drained(backend, 5)
            assert result.drained, result.summary()

            # Leaving the fleet when closed.
            await flush()
            await backend.aclose()
            assert await _zcard(server, INSTANCES) == 0

            counts = _since(start, await _counts(server))
            assert counts["eval"] == 0, counts
            # Every flush was felt (a NOSCRIPT answer) and mended (the script loaded again).
            assert counts["noscript"] >= flushes, counts
            assert counts["script load"] >= flushes, counts


async def _zcard(raw: aioredis.Redis, key: str) -> int:
    return int(await raw.zcard(key))


async def _beat_after(raw: aioredis.Redis, beat: float) -> bool:
    scores = await raw.zrange(INSTANCES, 0, 0, withscores=True)
    return bool(scores) and scores[0][1] > beat


class _FlushedAfterLoading(aioredis.Redis):
    """A client after whose next ``SCRIPT LOAD`` the server's script cache is emptied
    again, before the call that needed the script is made: a second flush, or a
    second failover, landing inside the reload."""

    flush_after_loads = 0  # how many of the next loads are undone at once

    async def script_load(self, script: str) -> str:  # type: ignore[override]
        sha = str(await super().script_load(script))
        if self.flush_after_loads:
            self.flush_after_loads -= 1
            await self.script_flush()
        return sha


async def test_a_flush_between_loading_and_calling_a_script_is_survived(
    own_redis: RedisServer,
    make_backend: BackendFactory,
    server: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    client = _FlushedAfterLoading.from_url(own_redis.url)
    try:
        # resync_interval=30 and not serving: the test's calls are the only scripts run.
        backend = make_backend(client=client, resync_interval=30)
        with _no_fault([backend], caplog):
            assert await backend.get_value() is False
            await wait_subscribed(server, CHANNEL)
            start = await _counts(server)

            client.flush_after_loads = 1
            await server.script_flush()
            assert await backend.read_state_now() == OFF

            client.flush_after_loads = 1
            await server.script_flush()
            async with fm.maintenance_mode_off(backend=backend):
                assert await _zcard(server, LEASES_OFF) == 1
                client.flush_after_loads = 1
                await server.script_flush()
            assert await _zcard(server, LEASES_OFF) == 0

            counts = _since(start, await _counts(server))
            assert counts["eval"] == 0, counts
            # Each time: NOSCRIPT, loaded, flushed at once, NOSCRIPT again, loaded, run.
            assert counts["noscript"] >= 6, counts  # two each time, three times
            await backend.aclose()
    finally:
        await client.aclose()


async def test_a_script_flushed_after_each_of_two_loads_is_sent_as_source_once(
    own_redis: RedisServer, make_backend: BackendFactory, server: aioredis.Redis
) -> None:
    client = _FlushedAfterLoading.from_url(own_redis.url)
    try:
        backend = make_backend(client=client, resync_interval=30)
        assert await backend.read_state_now() == OFF  # the read script is known from now on
        await server.script_flush()
        client.flush_after_loads = 2
        start = await _counts(server)
        await backend.set_value(True)  # the write script: NOSCRIPT three times
        assert await backend.read_state_now() == ON
        counts = _since(start, await _counts(server))
    finally:
        await client.aclose()
    assert counts["noscript"] == 4, counts  # three for the write, one for the read after
    assert counts["script load"] == 3, counts  # two for the write
    assert counts["eval"] == 1, counts  # the write, once: the next call goes by SHA again


@pytest.fixture
def redis_without_script(redis_executable: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server on which ``SCRIPT`` is renamed away: as a server locked down
    with ``rename-command``, or a proxy that does not pass it on, answers it."""
    server = RedisServer(
        redis_executable,
        directory=tmp_path / "redis",
        config=["--rename-command", "SCRIPT", ""],
    )
    server.start()
    try:
        yield server
    finally:
        server.close()


async def test_without_script_load_the_source_goes_with_each_call(
    redis_without_script: RedisServer,
    make_backend: BackendFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    url = redis_without_script.url
    raw = aioredis.Redis.from_url(url)
    try:
        with pytest.raises(ResponseError, match="unknown command"):
            await raw.script_load("return 1")  # the server really lacks it
        settings = {"lease_ttl": 0.3, "heartbeat_interval": 0.05, "resync_interval": 0.1}
        backend = make_backend(url=url, **settings)
        start = await _counts(raw)
        with _no_fault([backend], caplog):
            await _exercise(backend, raw)
        counts = _since(start, await _counts(raw))
    finally:
        await raw.aclose()
    assert counts["eval"] >= ROUNDS * 5, counts
    switched = [r.getMessage() for r in caplog.records if "SCRIPT LOAD" in r.getMessage()]
    assert switched, "the switch to sending the source is logged"
    assert all("unknown command" in line for line in switched), switched


async def test_an_acl_refusing_script_load_fails_the_call_until_it_is_mended(
    own_redis: RedisServer, make_backend: BackendFactory, server: aioredis.Redis
) -> None:
    await server.execute_command(
        "ACL", "SETUSER", "app", "on", ">app-password", "~*", "&*", "+@all", "-script|load"
    )
    backend = make_backend(url=f"redis://app:app-password@127.0.0.1:{own_redis.port}/0")
    with pytest.raises(RedisUnavailableError, match="script"):
        await backend.read_state_now()

    await server.execute_command("ACL", "SETUSER", "app", "+script|load")
    start = await _counts(server)
    assert await backend.read_state_now() == OFF  # the running process recovers
    counts = _since(start, await _counts(server))
    assert counts["script load"] == 1, counts
    assert counts["eval"] == 0, counts  # by SHA, not switched to sending the source
