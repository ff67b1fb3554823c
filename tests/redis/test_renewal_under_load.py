"""A lease holder whose event loop is busy still renews its lease in time.

The holder renews every ``lease_ttl / 3``. Its event loop is blocked in steps of
``STEP`` seconds, so each renewal runs late: it wakes up to one step late, and
redis-py needs several loop iterations to send the command and read the reply
(measured with redis-py 8.1: renewals ~0.6-0.7 s apart for a 0.4 s period). The
rest of the TTL absorbs that. Renewing every ``lease_ttl`` instead leaves the
lease expired from its expiry until the late renewal lands, a few steps each
time, and other processes see maintenance off meanwhile.

Two real processes on the session redis-server: the holder
(tests/redis/busy_holder.py) and this test, which polls both the library's view
(a ``RedisBackend`` of its own) and the lease set itself, in Redis time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio
import fastapi_maintenance as fm
import pytest
import redis.asyncio as aioredis
from anyio.abc import Process
from maintenance_core.backends.redis import RedisBackend

from tests.support.servers import ROOT

from .conftest import BackendFactory
from .helpers import eventually, stays, wait_subscribed

pytestmark = pytest.mark.anyio

LEASES_ON = "maintenance_mode:leases:on"
CHANNEL = "maintenance_mode:changed"

LEASE_TTL = 1.2  # seconds: renewed every 0.4 s while held
STEP = 0.05  # seconds the holder's loop blocks at a time (renewals ~0.3 s late, ~0.5 s margin)
WATCHED = 3.0  # seconds watched: 2.5 TTLs, so a lease renewed every TTL lapses in it

# The leases held, as Redis sees them now: its clock (ms) and every member's expiry.
_LOOK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
"""


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _read_line(process: Process, within: float, log: Path) -> str:
    """The holder's next line on stdout; fail with its stderr if none comes in time."""
    assert process.stdout is not None
    received = b""
    try:
        with anyio.fail_after(within):
            while not received.endswith(b"\n"):
                received += await process.stdout.receive()
    except (TimeoutError, anyio.EndOfStream):
        raise AssertionError(
            f"no line from the holder within {within}s (got {received!r}); its stderr:\n"
            f"{_tail(log)}"
        ) from None
    return received.decode().strip()


async def test_a_busy_holder_renews_in_time_so_another_process_never_sees_maintenance_off(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    observer = make_backend(url=redis_url, resync_interval=30)
    assert await fm.get_maintenance_mode(observer) is False
    await wait_subscribed(raw, CHANNEL)  # the observer hears of the lease when it is taken
    stop = tmp_path / "stop"
    log = tmp_path / "holder.log"
    holder = [sys.executable, "-m", "tests.redis.busy_holder", redis_url]
    with log.open("wb") as stderr:
        process = await anyio.open_process(
            [*holder, str(LEASE_TTL), str(STEP), str(stop)], cwd=ROOT, stderr=stderr
        )
    expiries: set[float] = set()  # every expiry the lease had: one per renewal
    last_look: dict[str, object] = {}

    async def held_as_seen_from_here() -> bool:
        now, members = await raw.eval(_LOOK, 1, LEASES_ON)
        scores = [float(score) for score in members[1::2]]
        expiries.update(scores)
        live = [score for score in scores if score > now]
        on_here = await fm.get_maintenance_mode(observer)
        last_look.update(
            lease_expired_ms_ago=now - max(scores, default=float("nan")),
            maintenance_here=on_here,
        )
        return len(live) == 1 and on_here is True

    try:
        assert await _read_line(process, within=20, log=log) == "held"
        await eventually(
            lambda: fm.get_maintenance_mode(observer), within=5.0, what="the lease seen here"
        )
        watched_from = time.monotonic()
        try:
            checks = await stays(held_as_seen_from_here, duration=WATCHED, what="lease live")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc} (holder: TTL {LEASE_TTL}s, loop blocked {STEP}s at a time): "
                f"maintenance seen off by another process while the lease was held; "
                f"last look {last_look}; holder's stderr:\n{_tail(log)}"
            ) from None
        watched = time.monotonic() - watched_from
        assert process.returncode is None, "the holder exited while it held the lease"
        stop.touch()
        stats = json.loads(await _read_line(process, within=20, log=log))
        assert await process.wait() == 0, _tail(log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.aclose()

    # The load was real: the holder's loop was blocked for most of the watch...
    assert stats["steps"] >= 0.5 * watched / STEP, stats
    assert stats["worst_lag"] >= STEP / 2, stats
    # ...and the lease was renewed under it, each renewal pushing its expiry on.
    assert len(expiries) - 1 >= WATCHED / LEASE_TTL, sorted(expiries)
    assert checks >= WATCHED / 0.05, checks  # looked often enough to catch a lapse
    await eventually(
        lambda: _off(observer), within=LEASE_TTL + 1, what="off once the holder released"
    )
    assert await raw.zcard(LEASES_ON) == 0


async def _off(observer: RedisBackend) -> bool:
    return await fm.get_maintenance_mode(observer) is False
