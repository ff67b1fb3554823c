"""The fleet's bookkeeping in Redis, driven from the test process: instances that
join and leave, a dead or garbled instance, and what a backend without a fleet says."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio as aioredis
from maintenance_core import ConfigurationError, MemoryBackend
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.drain import (
    DrainResult,
    FleetNotSupportedError,
    InstanceStatus,
    inflight_of,
    list_instances,
    supports_fleet,
    wait_drained,
)
from maintenance_core.state import ON

from tests.redis.helpers import eventually

pytestmark = pytest.mark.anyio

KEY = "proto:mm"


@pytest.fixture
async def serving(redis_url: str) -> AsyncIterator[RedisBackend]:
    """A backend serving requests in this process (as a middleware's would), so it
    is an instance of the fleet."""
    backend = RedisBackend(redis_url, key=KEY, heartbeat_interval=0.1)
    inflight_of(backend).serving = True
    await backend.get_state()  # the first read starts the sync and heartbeat tasks
    try:
        yield backend
    finally:
        await backend.aclose()


async def fake_instance(raw: aioredis.Redis, name: str, ttl_ms: int, ack: str) -> None:
    seconds, micros = await raw.time()
    now_ms = seconds * 1000 + micros // 1000
    await raw.zadd(f"{KEY}:instances", {name: now_ms + ttl_ms})
    await raw.hset(f"{KEY}:instances:acks", name, ack)


async def test_an_instance_joins_acknowledges_and_leaves_when_closed(
    serving: RedisBackend, redis_url: str
) -> None:
    async with RedisBackend(redis_url, key=KEY) as control:
        assert supports_fleet(control)

        async def listed() -> bool:
            return [s.instance for s in await list_instances(control)] == [serving.instance_id]

        await eventually(listed, within=5, what="the serving backend is listed")
        [status] = await list_instances(control)
        assert (status.on, status.drained, status.running) == (False, True, 0)
        assert 0 < status.expires_in <= serving.instance_ttl
        assert status.pid is not None
        assert status.host
        assert status.instance.startswith(status.host)

        await control.set_state(ON)
        result = await wait_drained(control, 5)
        assert result.drained, result.summary()
        assert [(s.instance, s.on, s.drained) for s in result.instances] == [
            (serving.instance_id, True, True)
        ]
        assert result.generation is not None
        assert result.instances[0].generation >= result.generation
        assert result.summary() == "drained: 1 live instance acknowledged"

        await serving.aclose()  # a graceful shutdown leaves at once
        assert await list_instances(control) == []


async def test_a_dead_instance_is_waited_for_until_its_heartbeat_expires(
    raw: aioredis.Redis, redis_url: str
) -> None:
    async with RedisBackend(redis_url, key=KEY) as control:
        await control.set_state(ON)
        not_drained = json.dumps({"generation": 1, "on": True, "drained": False, "running": 3})
        await fake_instance(raw, "gone:1:abcdef", 400, not_drained)
        with anyio.fail_after(5):
            result = await wait_drained(control, 0.1)
            assert not result.drained
            assert [s.instance for s in result.stragglers] == ["gone:1:abcdef"]
            assert result.still_running == 3
            # Nothing renews it: once its heartbeat expires, it no longer counts.
            result = await wait_drained(control, 3)
        assert (result.drained, result.instances) == (True, ())
        assert result.waited < 1
        assert await raw.hlen(f"{KEY}:instances:acks") == 0  # removed with it


@pytest.mark.parametrize(
    "ack",
    [
        "",
        "not json",
        "[1, 2]",
        '{"generation": 5}',
        '{"generation": "5", "on": true, "drained": true, "running": 0}',
    ],
)
async def test_an_unreadable_acknowledgement_is_not_drained(
    ack: str, raw: aioredis.Redis, redis_url: str
) -> None:
    async with RedisBackend(redis_url, key=KEY) as control:
        await fake_instance(raw, "odd:2:abcdef", 5000, ack)
        result = await wait_drained(control, 0)
        assert not result.drained
        [straggler] = result.stragglers
        assert straggler == InstanceStatus(
            "odd:2:abcdef", -1, False, False, 0, straggler.expires_in
        )
        assert straggler.describe() == "odd:2:abcdef: OFF, draining (0 requests running)"


async def test_a_backend_without_a_fleet_says_so() -> None:
    backend = MemoryBackend()
    assert not supports_fleet(backend)
    with pytest.raises(FleetNotSupportedError, match="redis"):
        await list_instances(backend)
    with pytest.raises(FleetNotSupportedError):
        await wait_drained(backend, 1, fleet=True)
    result = await wait_drained(backend, 1)  # this process only
    assert result == DrainResult(drained=True, still_running=0, timeout=1.0, waited=result.waited)


@pytest.mark.parametrize("interval", [0, 0.01, -1, float("nan"), "2"])
def test_an_unusable_heartbeat_interval_is_refused(interval: object) -> None:
    with pytest.raises(ConfigurationError, match="heartbeat_interval"):
        RedisBackend("redis://localhost:6379/0", heartbeat_interval=interval)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [-1, float("nan"), "1"])
async def test_an_unusable_timeout_is_refused(limit: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        await wait_drained(MemoryBackend(), limit)  # type: ignore[arg-type]
