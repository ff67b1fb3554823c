"""RedisBackend against a real redis-server: reading, writing, sharing, configuring, closing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import anyio.lowlevel
import fastapi_maintenance
import litestar_maintenance
import pytest
import redis.asyncio as aioredis
from maintenance_core import overrides_of
from maintenance_core.backends.redis import RedisBackend, RedisUnavailableError

from tests.support.redis_server import RedisServer

from .conftest import BackendFactory
from .helpers import eventually, subscribers, wait_subscribed

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"


async def test_set_and_get_round_trip_through_redis(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url)
    assert await backend.get_value() is False  # nothing stored yet means off

    await backend.set_value(True)
    assert await backend.get_value() is True
    assert await raw.get(KEY) == b"1"

    await backend.set_value(False)
    assert await backend.get_value() is False
    assert await raw.get(KEY) == b"0"


async def test_a_fresh_instance_reads_the_stored_state(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    await raw.set(KEY, "on")
    assert await make_backend(url=redis_url).get_value() is True
    await raw.set(KEY, "0")
    assert await make_backend(url=redis_url).get_value() is False


async def test_a_change_by_one_instance_reaches_another_by_pubsub(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    # Resync is far away: only the change message can make the reader follow within 1 s.
    writer = make_backend(url=redis_url, resync_interval=30)
    reader = make_backend(url=redis_url, resync_interval=30)
    assert await reader.get_value() is False
    await wait_subscribed(raw, CHANNEL)

    await writer.set_value(True)
    took = await eventually(reader.get_value, within=1.0, what="reader sees on")
    assert took < 1.0

    await writer.set_value(False)
    await eventually(lambda: _is_off(reader), within=1.0, what="reader sees off")


async def _is_off(backend: RedisBackend) -> bool:
    return not await backend.get_value()


async def test_a_direct_write_without_message_is_picked_up_by_the_resync(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    fast = make_backend(url=redis_url, resync_interval=0.3)
    slow = make_backend(url=redis_url, resync_interval=30)
    assert await fast.get_value() is False
    assert await slow.get_value() is False
    await wait_subscribed(raw, CHANNEL, count=2)
    # Make sure both background tasks are past their first read and idle: a lease
    # taken and dropped is seen by both, after which nothing is pending.
    async with fastapi_maintenance.maintenance_mode_on(backend=fast):
        await eventually(
            lambda: (
                overrides_of(fast).held_everywhere == overrides_of(slow).held_everywhere == (1, 0)
            ),
            within=1.0,
        )
    await eventually(
        lambda: overrides_of(fast).held_everywhere == overrides_of(slow).held_everywhere == (0, 0),
        within=1.0,
    )

    await raw.set(KEY, "1")  # no PUBLISH: nobody is told
    took = await eventually(fast.get_value, within=3.0, what="resync picks up the write")
    assert took < 0.3 + 1.0
    # The control: without a message, an instance whose resync is far away still
    # has the old value, so the one above did learn it from its resync.
    assert await slow.get_value() is False


async def test_reads_are_answered_from_memory(
    make_backend: BackendFactory, own_redis: RedisServer
) -> None:
    backend = make_backend(url=own_redis.url, resync_interval=30)
    writer = make_backend(url=own_redis.url)
    await writer.set_value(True)
    assert await backend.get_value() is True  # the first read asks Redis

    client = aioredis.Redis.from_url(own_redis.url)
    try:
        await wait_subscribed(client, CHANNEL)  # the background task is up
        before = await _calls(client)
        for _ in range(200):
            assert await backend.get_value() is True
            await anyio.lowlevel.checkpoint()  # let anything a read started run
        after = await _calls(client)
    finally:
        await client.aclose()
    # 200 reads, and at most the one re-read the background task makes when it starts
    # (a script and the GET inside it).
    assert after - before <= 2, f"{after - before} scripts/GETs ran for 200 reads"

    own_redis.stop()
    for _ in range(20):
        start = time.perf_counter()
        value = await backend.get_value()  # must neither raise nor wait for Redis
        assert time.perf_counter() - start < 0.05
        assert value is True


async def _calls(client: aioredis.Redis) -> int:
    """How many scripts and GETs Redis has run (a read of the state is one of either)."""
    stats = await client.info("commandstats")
    names = ("cmdstat_eval", "cmdstat_evalsha", "cmdstat_eval_ro", "cmdstat_get")
    return sum(int(stats[name]["calls"]) for name in names if name in stats)


def test_describe_redacts_the_password() -> None:
    with_user = RedisBackend(url="redis://admin:s3cret@10.0.0.5:6380/2", key="mm")
    assert with_user.describe() == "redis: redis://admin:***@10.0.0.5:6380/2 key mm"
    password_only = RedisBackend(url="rediss://:s3cret@cache.example/0")
    assert "s3cret" not in password_only.describe()
    assert password_only.describe() == "redis: rediss://:***@cache.example/0 key maintenance_mode"
    assert RedisBackend(url="redis://127.0.0.1:6379/0").describe() == (
        "redis: redis://127.0.0.1:6379/0 key maintenance_mode"
    )


@pytest.mark.parametrize("url", ["http://x", "localhost:6379", "http://user:s3cret@x"])
def test_an_invalid_url_is_refused_at_construction(url: str) -> None:
    with pytest.raises(ValueError, match="Invalid Redis URL") as refused:
        RedisBackend(url=url)
    message = str(refused.value)
    assert "redis://" in message  # says what a valid URL looks like
    assert "s3cret" not in message


async def test_url_and_client_together_are_refused(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        with pytest.raises(ValueError, match="either url or client"):
            RedisBackend(url=redis_url, client=client)
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "options", [{"resync_interval": 0}, {"lease_ttl": -1}, {"socket_timeout": 0}]
)
def test_non_positive_timings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="is not usable"):
        RedisBackend(url="redis://127.0.0.1:6379/0", **options)


async def test_a_client_given_by_the_caller_is_used_and_left_open(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        backend = make_backend(client=client, key="given", resync_interval=30)
        assert backend.describe() == "redis: client key given"
        other = make_backend(url=redis_url, key="given", resync_interval=30)
        assert await other.get_value() is False
        await wait_subscribed(raw, "given:changed")

        await backend.set_value(True)
        assert await raw.get("given") == b"1"
        await eventually(other.get_value, within=1.0, what="the URL instance sees on")

        await backend.aclose()
        assert await client.ping() is True  # the caller's client is the caller's to close
    finally:
        await client.aclose()


@pytest.mark.parametrize("adapter", [fastapi_maintenance, litestar_maintenance])
async def test_configure_backend_redis_in_each_adapter(
    adapter: Any, make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    registry = adapter.registry
    adapter.configure_backend("redis", url=redis_url, key="configured", resync_interval=30)
    configured = registry.default_backend()
    try:
        assert isinstance(configured, RedisBackend)
        assert (configured.url, configured.key) == (redis_url, "configured")

        assert await adapter.get_maintenance_mode() is False
        await adapter.set_maintenance_mode(True)
        assert await raw.get("configured") == b"1"
        assert await adapter.get_maintenance_mode() is True

        other = make_backend(url=redis_url, key="configured", resync_interval=30)
        await wait_subscribed(raw, "configured:changed")
        await other.set_value(False)
        await eventually(
            lambda: _is_off_in(adapter), within=1.0, what="the configured backend follows"
        )
    finally:
        await configured.aclose()


async def _is_off_in(adapter: Any) -> bool:
    return not await adapter.get_maintenance_mode()


def test_the_adapters_export_the_core_class() -> None:
    from fastapi_maintenance.backends import RedisBackend as FastAPIRedisBackend
    from litestar_maintenance.backends import RedisBackend as LitestarRedisBackend
    from maintenance_core.backends import RedisBackend as CoreBackendsRedisBackend

    assert FastAPIRedisBackend is RedisBackend
    assert LitestarRedisBackend is RedisBackend
    assert CoreBackendsRedisBackend is RedisBackend
    assert issubclass(RedisUnavailableError, Exception)


def _sync_tasks() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "RedisBackend._sync_forever"
    ]


async def test_aclose_stops_the_background_task_promptly(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url, resync_interval=30)
    await backend.get_value()
    await wait_subscribed(raw, CHANNEL)
    assert len(_sync_tasks()) == 1

    start = time.monotonic()
    with anyio.fail_after(2):
        await backend.aclose()
    assert time.monotonic() - start < 0.5
    assert _sync_tasks() == []
    await eventually(
        lambda: _no_subscriber(raw), within=2.0, what="the subscription is gone from Redis"
    )
    with anyio.fail_after(2):
        await backend.aclose()  # a second close is harmless


async def _no_subscriber(raw: aioredis.Redis) -> bool:
    return await subscribers(raw, CHANNEL) == 0


async def test_aclose_is_prompt_while_redis_is_down(
    make_backend: BackendFactory, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    backend = make_backend(url=own_redis.url, resync_interval=30)
    await backend.get_value()
    own_redis.stop()
    await eventually(
        lambda: "Redis is unreachable" in caplog.text, what="the outage is noticed"
    )  # the sync task is now reconnecting with backoff

    start = time.monotonic()
    with anyio.fail_after(2):
        await backend.aclose()
    assert time.monotonic() - start < 0.5
    assert _sync_tasks() == []
