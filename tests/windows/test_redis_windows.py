"""Windows stored in a real Redis: shared by instances, evaluated by each reader's clock."""

from __future__ import annotations

import json
from datetime import timedelta

import fastapi_maintenance
import litestar_maintenance
import pytest
import redis.asyncio as aioredis
from maintenance_core.errors import InvalidWindowError
from maintenance_core.state import MaintenanceState

from tests.redis.conftest import BackendFactory
from tests.support.waiting import eventually

from ._helpers import Flavor, assert_retry_after_counts_down_to, build_app, client, utc_now

pytestmark = pytest.mark.anyio


async def test_a_window_set_on_one_instance_is_seen_by_another(
    flavor: Flavor, make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    module = fastapi_maintenance if flavor == "fastapi" else litestar_maintenance
    writer = make_backend(url=redis_url)
    reader = make_backend(url=redis_url)
    assert await reader.get_value() is False  # the reader is running and knows "off"
    start = utc_now() - timedelta(minutes=1)
    end = utc_now() + timedelta(hours=2)

    await module.set_maintenance_mode(True, writer, start=start, end=end)

    expected = MaintenanceState(True, start, end)
    stored = await raw.get("maintenance_mode")
    assert isinstance(stored, bytes)
    assert stored.decode() == expected.to_text()
    assert json.loads(stored) == {"on": True, "start": start.isoformat(), "end": end.isoformat()}

    async def reader_state() -> MaintenanceState:
        return await reader.get_state()

    assert await eventually(reader_state, lambda s: s == expected) == expected
    assert await reader.get_value() is True
    assert await module.get_maintenance_mode(reader) is True

    fresh = make_backend(url=redis_url)
    assert await fresh.read_state_now() == expected
    assert (await fresh.read_state_now()).is_on_now() is True


async def test_a_future_window_in_redis_is_off_until_it_starts(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url)
    start = utc_now() + timedelta(hours=1)
    end = start + timedelta(hours=1)
    await fastapi_maintenance.set_maintenance_mode(True, backend, start=start, end=end)

    other = make_backend(url=redis_url)
    assert await other.get_state() == MaintenanceState(True, start, end)
    assert await other.get_value() is False
    assert await fastapi_maintenance.get_maintenance_mode(other) is False
    async with client(build_app("fastapi", other)) as c:
        assert (await c.get("/")).status_code == 200


async def test_redis_window_switches_itself_off_without_any_write(
    flavor: Flavor, make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    writer = make_backend(url=redis_url)
    serving = make_backend(url=redis_url)
    end = utc_now() + timedelta(seconds=1.5)
    await writer.set_state(MaintenanceState.scheduled(None, end))
    stored_before = await raw.get("maintenance_mode")

    async with client(build_app(flavor, serving)) as c:
        first = await eventually(lambda: c.get("/"), lambda r: r.status_code == 503)
        assert_retry_after_counts_down_to(first.headers, end)
        last = await eventually(lambda: c.get("/"), lambda r: r.status_code == 200, timeout=5)
    assert last.json() == {"ok": True}
    assert utc_now() >= end
    assert await serving.get_value() is False
    assert (await writer.read_state_now()).is_on_now() is False
    # Nobody switched it off: the key still holds the window.
    assert await raw.get("maintenance_mode") == stored_before


async def test_plain_values_replace_a_window_in_redis(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url)
    end = utc_now() + timedelta(hours=1)
    await litestar_maintenance.set_maintenance_mode(True, backend, end=end)
    stored = await raw.get("maintenance_mode")
    assert isinstance(stored, bytes)
    assert stored.startswith(b"{")

    await litestar_maintenance.set_maintenance_mode(False, backend)
    assert await raw.get("maintenance_mode") == b"0"
    await litestar_maintenance.set_maintenance_mode(True, backend)
    assert await raw.get("maintenance_mode") == b"1"


async def test_bad_window_writes_nothing_to_redis(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url)
    with pytest.raises(InvalidWindowError, match="already past"):
        await fastapi_maintenance.set_maintenance_mode(True, backend, end="2001-01-01T00:00Z")
    with pytest.raises(InvalidWindowError, match="set_maintenance_mode"):
        await fastapi_maintenance.set_maintenance_mode(False, backend, end="2099-01-01T00:00Z")
    assert await raw.get("maintenance_mode") is None


async def test_override_off_on_redis_keeps_the_stored_window(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    backend = make_backend(url=redis_url)
    end = utc_now() + timedelta(hours=2)
    await fastapi_maintenance.set_maintenance_mode(True, backend, end=end)
    stored = await raw.get("maintenance_mode")
    app = build_app("fastapi", backend)

    async with client(app) as c:
        assert (await c.get("/")).status_code == 503
        async with fastapi_maintenance.maintenance_mode_off(backend):
            assert (await c.get("/")).status_code == 200
            assert await fastapi_maintenance.get_maintenance_mode(backend) is False
            assert await raw.get("maintenance_mode") == stored  # leases, not writes
        response = await c.get("/")
    assert response.status_code == 503
    assert_retry_after_counts_down_to(response.headers, end)
    assert await backend.read_state_now() == MaintenanceState(True, None, end)
