"""Overrides on RedisBackend are leases every instance sees, renewed while held, and
expiring when their holder dies."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import fastapi_maintenance as fm
import httpx
import pytest
import redis.asyncio as aioredis
from anyio.abc import Process
from maintenance_core import overrides_of
from maintenance_core.backends.redis import RedisBackend

from tests.support.servers import ROOT, uvicorn_server

from .conftest import BackendFactory
from .helpers import eventually, stays, wait_subscribed

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"
LEASES_ON = f"{KEY}:leases:on"
LEASES_OFF = f"{KEY}:leases:off"


async def _pair(
    make_backend: BackendFactory, raw: aioredis.Redis, url: str, **options: float
) -> tuple[RedisBackend, RedisBackend]:
    """Two instances, as two processes would have, both read once and listening."""
    options.setdefault("resync_interval", 30)
    first = make_backend(url=url, **options)
    second = make_backend(url=url, **options)
    await first.get_value()
    await second.get_value()
    await wait_subscribed(raw, CHANNEL, count=2)
    return first, second


async def _all_report(expected: bool, *backends: RedisBackend) -> bool:
    return all([await fm.get_maintenance_mode(b) is expected for b in backends])


async def test_a_lease_on_one_instance_turns_maintenance_on_for_another(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    b1, b2 = await _pair(make_backend, raw, redis_url)
    assert await fm.get_maintenance_mode(b2) is False

    async with fm.maintenance_mode_on(backend=b1):
        assert await fm.get_maintenance_mode(b1) is True  # at once in the holder
        took = await eventually(lambda: _all_report(True, b2), within=1.0, what="b2 on")
        assert took < 1.0
        assert overrides_of(b2).active is True
        assert overrides_of(b2).held == (0, 0)  # b2 holds nothing itself
        assert await raw.zcard(LEASES_ON) == 1

    await eventually(lambda: _all_report(False, b1, b2), within=1.0, what="off everywhere")
    assert await raw.zcard(LEASES_ON) == 0
    assert await raw.exists(KEY) == 0  # the override never wrote the state key


async def test_the_holder_reports_the_stored_state_as_soon_as_its_block_ends(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    b1, _ = await _pair(make_backend, raw, redis_url)
    async with fm.maintenance_mode_on(backend=b1):
        # Let the holder see its own lease fleet-wide, as any long block does.
        await eventually(
            lambda: overrides_of(b1).held_everywhere == (1, 0), within=1.0, what="lease seen"
        )
    # As with every other backend: the state from before comes back when the block ends.
    assert await fm.get_maintenance_mode(b1) is False


async def test_nested_and_overlapping_leases_follow_the_precedence(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    b1, b2 = await _pair(make_backend, raw, redis_url)
    await b1.set_value(True)  # the stored state: on
    await eventually(b2.get_value, within=1.0, what="b2 reads the stored state")

    async def settle(leases: tuple[int, int], expected: bool) -> None:
        # Wait until both instances have seen the leases, then check what they decide.
        await eventually(
            lambda: (
                overrides_of(b1).held_everywhere == leases
                and overrides_of(b2).held_everywhere == leases
            ),
            within=1.0,
            what=f"both see leases {leases}",
        )
        assert await fm.get_maintenance_mode(b1) is expected
        assert await fm.get_maintenance_mode(b2) is expected
        # Overrides are leases: the stored state is never touched.
        assert await raw.get(KEY) == b"1"
        assert await b1.get_value() is True
        assert await b2.get_value() is True

    await settle((0, 0), True)
    async with fm.maintenance_mode_off(backend=b2):
        await settle((0, 1), False)  # only off held: off beats the stored on
        async with fm.maintenance_mode_on(backend=b1):
            await settle((1, 1), True)  # an on held anywhere wins
            async with fm.maintenance_mode_on(backend=b1):
                await settle((2, 1), True)
                async with fm.maintenance_mode_off(backend=b1):
                    await settle((2, 2), True)
                await settle((2, 1), True)
            await settle((1, 1), True)  # the outer on is still held
        await settle((0, 1), False)
    await settle((0, 0), True)  # none held: the stored state

    await b1.set_value(False)
    await eventually(lambda: _all_report(False, b2), within=1.0, what="stored off")
    async with fm.maintenance_mode_on(backend=b1), fm.maintenance_mode_on(backend=b2):
        await eventually(
            lambda: overrides_of(b1).held_everywhere == overrides_of(b2).held_everywhere == (2, 0),
            within=1.0,
            what="2 on",
        )
        assert await _all_report(True, b1, b2)
    await eventually(lambda: _all_report(False, b1, b2), within=1.0, what="back to off")
    assert await raw.get(KEY) == b"0"


async def test_a_held_lease_is_renewed(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    ttl = 0.4
    b1, b2 = await _pair(make_backend, raw, redis_url, lease_ttl=ttl)
    async with fm.maintenance_mode_on(backend=b1):
        await eventually(lambda: _all_report(True, b2), within=1.0, what="b2 on")
        # Without renewal the lease would expire after ttl and b2 would turn off.
        await stays(lambda: _all_report(True, b2), duration=3.5 * ttl, what="b2 stays on")
        [(_, expiry_ms)] = await raw.zrange(LEASES_ON, 0, -1, withscores=True)
        seconds, micros = await raw.time()
        assert expiry_ms > seconds * 1000 + micros / 1000  # renewed into the future
    await eventually(lambda: _all_report(False, b1, b2), within=1.0, what="off after")
    assert await raw.zcard(LEASES_ON) == 0


_HOLDER = """
import asyncio
import sys

from fastapi_maintenance import maintenance_mode_on
from maintenance_core.backends.redis import RedisBackend


async def main() -> None:
    backend = RedisBackend(url=sys.argv[1], lease_ttl=float(sys.argv[2]))
    async with maintenance_mode_on(backend=backend):
        print("held", flush=True)
        await asyncio.Event().wait()


asyncio.run(main())
"""


async def _read_line(process: Process, within: float) -> str:
    assert process.stdout is not None
    received = b""
    with anyio.fail_after(within):
        while not received.endswith(b"\n"):
            received += await process.stdout.receive()
    return received.decode().strip()


async def test_the_lease_of_a_killed_process_expires(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    ttl = 1.0
    observer = make_backend(url=redis_url, resync_interval=30)
    assert await observer.get_value() is False
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER)

    process = await anyio.open_process(
        [sys.executable, str(script), redis_url, str(ttl)],
        cwd=ROOT,
    )
    try:
        assert await _read_line(process, within=20) == "held"
        await eventually(lambda: _all_report(True, observer), within=1.0, what="seen on")
        # The holder renews its lease: it keeps counting well past one ttl...
        await stays(lambda: _all_report(True, observer), duration=1.5 * ttl, what="stays on")
        assert process.returncode is None

        process.kill()  # SIGKILL: no chance to release anything
        killed_at = time.monotonic()
        await process.wait()
        assert await raw.zcard(LEASES_ON) == 1  # the lease outlives its holder...
        await eventually(lambda: _all_report(False, observer), within=ttl + 2, what="off")
        took = time.monotonic() - killed_at
        assert took < ttl + 0.75, f"the dead holder's lease counted {took:.2f}s after the kill"
        assert await raw.zcard(LEASES_ON) == 0  # ...until it expires
        assert await raw.exists(KEY) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.aclose()


async def _status(http: httpx.AsyncClient, url: str) -> int:
    return (await http.get(f"{url}/items")).status_code


async def test_a_forced_off_endpoint_holding_a_lease_puts_another_uvicorn_in_maintenance(
    raw: aioredis.Redis, redis_url: str
) -> None:
    ttl = 1.0
    key = "fleet"
    env = {"REDIS_URL": redis_url, "KEY": key, "LEASE_TTL": str(ttl)}
    with (
        uvicorn_server("tests.redis.apps.fleet:app", env=env) as first,
        uvicorn_server("tests.redis.apps.fleet:app", env=env) as second,
    ):
        async with httpx.AsyncClient(timeout=10) as http:
            assert await _status(http, first) == 200
            assert await _status(http, second) == 200
            responses: list[httpx.Response] = []

            async def hold() -> None:
                responses.append(await http.post(f"{first}/admin/hold", timeout=40))

            async with anyio.create_task_group() as group:
                group.start_soon(hold)
                await eventually(
                    lambda: raw.zcard(f"{key}:leases:on"), within=5.0, what="lease taken"
                )
                await eventually(
                    lambda: _returns(http, second, 503), within=1.0, what="second in maintenance"
                )
                assert await _status(http, first) == 503
                # Held past one ttl (renewed by the holding instance), still in maintenance.
                await stays(lambda: _returns(http, second, 503), duration=1.5 * ttl)
                assert responses == []  # the holder is still waiting
                await raw.rpush(f"{key}:release", "go")

            [released] = responses
            assert released.status_code == 200
            assert released.json() == {"released": True}
            await eventually(
                lambda: _returns(http, second, 200), within=1.0, what="second back to normal"
            )
            assert await _status(http, first) == 200
            assert await raw.exists(key) == 0  # the state key was never written


async def _returns(http: httpx.AsyncClient, url: str, status: int) -> bool:
    return await _status(http, url) == status
