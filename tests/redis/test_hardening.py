"""RedisBackend under hostile conditions: a cancelled or timed-out override, unusable
settings, and a key of the wrong type, against a real redis-server."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import anyio
import fastapi_maintenance as fm
import pytest
import redis.asyncio as aioredis
from maintenance_core.backends.redis import RedisBackend, RedisUnavailableError
from maintenance_core.errors import ConfigurationError, MaintenanceError

from .conftest import BackendFactory

pytestmark = pytest.mark.anyio

LEASES_ON = "maintenance_mode:leases:on"


class _Stalled(Exception):
    """What a client sees when the reply to an applied write never arrives."""


def _stall_after_applying(backend: RedisBackend, outcome: str, started: anyio.Event) -> None:
    """Make the backend's lease write land on the server, then hang or fail as a lost
    reply would: the window in which a holder used to leave its lease behind."""
    take = backend._take_lease

    async def take_then_stall(value: bool, lease_id: str) -> None:
        await take(value, lease_id)  # the server has the lease now
        started.set()
        if outcome == "timeout":
            raise aioredis.TimeoutError("Timeout reading from socket")
        await anyio.sleep_forever()  # the reply never comes; the caller gives up

    backend._take_lease = take_then_stall  # type: ignore[method-assign]


async def test_a_cancelled_override_takes_its_lease_back(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url, lease_ttl=60)
    started = anyio.Event()
    _stall_after_applying(backend, "hang", started)
    entered = False

    async def hold() -> None:
        nonlocal entered
        async with fm.maintenance_mode_on(backend=backend):
            entered = True  # pragma: no cover - never reached

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold)
        await started.wait()
        assert await raw.zcard(LEASES_ON) == 1  # the lease is on the server...
        tg.cancel_scope.cancel()
    assert entered is False
    assert await raw.zcard(LEASES_ON) == 0  # ...and taken back, not left for 60 s
    assert await fm.get_maintenance_mode(backend) is False


async def test_a_timed_out_override_takes_its_lease_back(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url, lease_ttl=60)
    _stall_after_applying(backend, "timeout", anyio.Event())
    with pytest.raises(RedisUnavailableError, match="Cannot take a maintenance lease"):
        async with fm.maintenance_mode_on(backend=backend):
            pytest.fail("the block must not run")  # pragma: no cover
    assert await raw.zcard(LEASES_ON) == 0
    assert await fm.get_maintenance_mode(backend) is False


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("lease_ttl", math.inf),
        ("lease_ttl", math.nan),
        ("lease_ttl", 0.0001),
        ("lease_ttl", 0),
        ("lease_ttl", -1),
        ("lease_ttl", "15"),
        ("resync_interval", math.inf),
        ("resync_interval", 0.000001),
        ("socket_timeout", math.nan),
        ("socket_timeout", 0),
        ("lease_ttl", True),
    ],
)
def test_unusable_settings_fail_at_construction(option: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=option) as raised:
        RedisBackend(url="redis://127.0.0.1:1/0", **{option: value})
    assert isinstance(raised.value, MaintenanceError)
    assert isinstance(raised.value, ValueError)


SMALLEST: dict[str, Any] = {"lease_ttl": 0.1, "resync_interval": 0.05, "socket_timeout": 0.01}


def test_the_smallest_usable_settings_are_accepted() -> None:
    backend = RedisBackend(url="redis://127.0.0.1:1/0", **SMALLEST)
    assert {option: getattr(backend, option) for option in SMALLEST} == SMALLEST
    # ...and they are the smallest: a little less is refused, naming the setting.
    for option, smallest in SMALLEST.items():
        less = smallest * 0.99
        with pytest.raises(ConfigurationError, match=re.escape(f"{option}={less!r}")):
            RedisBackend(url="redis://127.0.0.1:1/0", **{option: less})


@pytest.mark.parametrize(
    ("kind", "create"),
    [
        ("list", lambda raw: raw.rpush("maintenance_mode", "1")),
        ("hash", lambda raw: raw.hset("maintenance_mode", "on", "1")),
        ("set", lambda raw: raw.sadd("maintenance_mode", "1")),
    ],
)
async def test_a_key_of_the_wrong_type_is_a_bad_value_not_an_outage(
    kind: str,
    create: Any,
    make_backend: BackendFactory,
    raw: aioredis.Redis,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await create(raw)
    backend = make_backend(url=redis_url)
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            assert await backend.get_value() is False
        with pytest.raises(MaintenanceError, match=f"a Redis {kind}, not a string"):
            await backend.read_state_now()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1, messages
    assert "invalid" in messages[0]
    assert "unreachable" not in messages[0]


# --- on_state_error decides for Redis faults too ----------------------------------------


def _app(backend: RedisBackend, policy: str) -> Any:
    from fastapi import FastAPI
    from fastapi_maintenance import MaintenanceModeMiddleware

    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend, on_state_error=policy)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    return app


async def _statuses(app: Any, count: int) -> set[int]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        return {(await http.get("/items")).status_code for _ in range(count)}


@pytest.mark.parametrize(("policy", "during"), [("on", 503), ("off", 200), ("last_known", 200)])
async def test_on_state_error_decides_while_redis_is_unreachable(
    policy: str, during: int, make_backend: BackendFactory, own_redis: Any
) -> None:
    from .helpers import eventually

    backend = make_backend(url=own_redis.url, resync_interval=0.2)
    app = _app(backend, policy)
    assert await _statuses(app, 5) == {200}  # off, known
    own_redis.stop()
    await eventually(lambda: backend.problem is not None, within=5.0, what="outage seen")
    assert await _statuses(app, 20) == {during}
    own_redis.start()
    await eventually(lambda: backend.problem is None, within=5.0, what="Redis back")
    assert await _statuses(app, 5) == {200}


@pytest.mark.parametrize(("policy", "during"), [("on", 503), ("off", 200), ("last_known", 200)])
async def test_on_state_error_decides_for_a_bad_value_in_redis(
    policy: str,
    during: int,
    make_backend: BackendFactory,
    raw: aioredis.Redis,
    redis_url: str,
) -> None:
    from .helpers import eventually

    await raw.set("maintenance_mode", "0")
    backend = make_backend(url=redis_url, resync_interval=0.2)
    app = _app(backend, policy)
    assert await _statuses(app, 5) == {200}
    await raw.delete("maintenance_mode")
    await raw.rpush("maintenance_mode", "1")  # a list where a string belongs
    await eventually(lambda: backend.problem is not None, within=5.0, what="bad value seen")
    assert await _statuses(app, 20) == {during}


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:1/0?password=PWSECRET3",
        "redis://user:PWSECRET3@127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?db=0&Password=PWSECRET3&socket_timeout=1",
    ],
)
def test_a_password_in_the_url_is_masked_in_every_description(url: str) -> None:
    backend = RedisBackend(url=url)
    assert "PWSECRET3" not in backend.describe()
    assert "***" in backend.describe()
