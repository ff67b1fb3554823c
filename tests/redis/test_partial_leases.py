"""Partial overrides on RedisBackend: ``maintenance_mode_on(read_only=True)`` and
``maintenance_mode_on(groups=[...])`` are leases every process sees, and every
process serves what the ``on`` leases held cover together (``Coverage.union``).

Several backends on one real redis-server stand for several processes; what each
serves is asked of the core's ``StateReader``, as the middleware does.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import anyio
import fastapi_maintenance as fm
import pytest
import redis.asyncio as aioredis
from anyio.abc import Process
from maintenance_core import MaintenanceOverride, overrides_of
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.coverage import WHOLE_SITE, Coverage
from maintenance_core.decision import StateReader

from tests.support.servers import ROOT

from .conftest import BackendFactory
from .helpers import eventually, wait_subscribed

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"
LEASES_ON = f"{KEY}:leases:on"

READ_ONLY = Coverage(read_only=True)
PAYMENTS = Coverage(groups=frozenset({"payments"}))
SEARCH = Coverage(groups=frozenset({"search"}))
READ_ONLY_PAYMENTS = Coverage(read_only=True, groups=frozenset({"payments"}))
READ_ONLY_SEARCH = Coverage(read_only=True, groups=frozenset({"search"}))


async def _fleet(
    make_backend: BackendFactory, raw: aioredis.Redis, url: str, count: int, **options: float
) -> list[RedisBackend]:
    """*count* backends, as *count* processes would have, each read once and listening."""
    options.setdefault("resync_interval", 30)  # a change must arrive by message, not resync
    backends = [make_backend(url=url, **options) for _ in range(count)]
    for backend in backends:
        await backend.get_value()
    await wait_subscribed(raw, CHANNEL, count=count)
    return backends


def _hold(coverage: Coverage, backend: RedisBackend) -> MaintenanceOverride:
    return fm.maintenance_mode_on(
        backend=backend, read_only=coverage.read_only, groups=sorted(coverage.groups)
    )


async def _all_serve(expected: Coverage | None, *backends: RedisBackend) -> bool:
    """Whether every backend's reader serves *expected* (``None``: maintenance off)."""
    return all([await StateReader(b).read() == expected for b in backends])


async def _settle(expected: Coverage | None, *backends: RedisBackend, what: str = "") -> None:
    await eventually(
        lambda: _all_serve(expected, *backends), within=2.0, what=what or f"all serve {expected}"
    )


async def test_a_read_only_lease_on_one_backend_is_read_only_on_another(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    holder, other = await _fleet(make_backend, raw, redis_url, 2)
    await fm.set_maintenance_mode(False, backend=holder)  # stored: off
    await _settle(None, holder, other, what="the stored state everywhere")

    async with fm.maintenance_mode_on(backend=holder, read_only=True):
        assert await StateReader(holder).read() == READ_ONLY  # at once in the holder
        await _settle(READ_ONLY, other, what="the other backend serves read-only")
        assert overrides_of(other).held == (0, 0)  # it holds nothing itself
        assert overrides_of(other).held_everywhere == (1, 0)
        # A second lease, limited to a group only: read-only only if all are, groups
        # only if all are, so together they cover the whole site.
        async with _hold(PAYMENTS, other):
            await _settle(WHOLE_SITE, holder, other, what="read-only + payments: whole site")
        await _settle(READ_ONLY, holder, other, what="the group lease released")
        # The stored state switched on for the whole site: a partial lease adds to it,
        # it never narrows it.
        await fm.set_maintenance_mode(True, backend=other)
        await _settle(WHOLE_SITE, holder, other, what="stored whole site + read-only lease")
        assert await raw.get(KEY) == b"1"  # a lease never writes the stored state
        await fm.set_maintenance_mode(False, backend=other)
        await _settle(READ_ONLY, holder, other, what="stored off again: the lease decides")

    # Every lease released: the stored state, off, comes back everywhere.
    await _settle(None, holder, other, what="the stored state back")
    assert await raw.zcard(LEASES_ON) == 0

    async with _hold(READ_ONLY_PAYMENTS, holder):
        await _settle(READ_ONLY_PAYMENTS, holder, other)
    await _settle(None, holder, other, what="off again")


@pytest.mark.parametrize(
    ("first", "second", "together"),
    [
        (READ_ONLY, READ_ONLY, READ_ONLY),
        (READ_ONLY, PAYMENTS, WHOLE_SITE),
        (PAYMENTS, SEARCH, Coverage(groups=frozenset({"payments", "search"}))),
        (
            READ_ONLY_PAYMENTS,
            READ_ONLY_SEARCH,
            Coverage(read_only=True, groups=frozenset({"payments", "search"})),
        ),
        (READ_ONLY_PAYMENTS, PAYMENTS, PAYMENTS),
        (READ_ONLY_PAYMENTS, READ_ONLY, READ_ONLY),
        (READ_ONLY_PAYMENTS, WHOLE_SITE, WHOLE_SITE),
    ],
    ids=[
        "read-only+read-only",
        "read-only+group",
        "group+group",
        "read-only-group+read-only-group",
        "read-only-group+same-group",
        "read-only-group+read-only",
        "read-only-group+whole-site",
    ],
)
async def test_leases_held_by_two_backends_cover_their_union_everywhere(
    make_backend: BackendFactory,
    raw: aioredis.Redis,
    redis_url: str,
    first: Coverage,
    second: Coverage,
    together: Coverage,
) -> None:
    assert first.union(second) == together  # the rule, as the core states it
    one, two, observer = await _fleet(make_backend, raw, redis_url, 3)
    async with _hold(first, one):
        await _settle(first, one, two, observer)
        async with _hold(second, two):
            await _settle(together, one, two, observer)
        await _settle(first, one, two, observer, what="the second lease released")
    await _settle(None, one, two, observer, what="both released: off")
    assert await raw.zcard(LEASES_ON) == 0


async def test_two_partial_leases_of_one_backend_and_their_release(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    holder, observer = await _fleet(make_backend, raw, redis_url, 2)
    async with _hold(PAYMENTS, holder):
        async with _hold(SEARCH, holder):
            both = Coverage(groups=frozenset({"payments", "search"}))
            assert await StateReader(holder).read() == both
            await _settle(both, holder, observer)
        assert await StateReader(holder).read() == PAYMENTS  # released here at once
        await _settle(PAYMENTS, holder, observer)
    await _settle(None, holder, observer)


async def test_a_whole_site_lease_is_stored_as_before_and_a_partial_one_after_its_id(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    (holder,) = await _fleet(make_backend, raw, redis_url, 1)
    async with fm.maintenance_mode_on(backend=holder):
        [member] = await raw.zrange(LEASES_ON, 0, -1)
    # The lease id alone, as a process without partial maintenance writes and reads it.
    assert re.fullmatch(rb"[0-9a-f]{32}", member), member

    async with _hold(READ_ONLY_PAYMENTS, holder):
        [member] = await raw.zrange(LEASES_ON, 0, -1)
    lease_id, _, coverage = member.partition(b":")
    assert re.fullmatch(rb"[0-9a-f]{32}", lease_id), member
    assert json.loads(coverage) == {"read_only": True, "groups": ["payments"]}


async def _server_ms(raw: aioredis.Redis) -> int:
    seconds, micros = await raw.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_a_lease_written_without_coverage_counts_as_the_whole_site(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    holder, observer = await _fleet(make_backend, raw, redis_url, 2)
    async with fm.maintenance_mode_on(backend=holder, read_only=True):
        await _settle(READ_ONLY, holder, observer)
        # A lease as an earlier version's holder takes it: its id, no coverage.
        await raw.zadd(
            LEASES_ON, {"0123456789abcdef0123456789abcdef": await _server_ms(raw) + 60_000}
        )
        await raw.publish(CHANNEL, "lease")
        await _settle(WHOLE_SITE, holder, observer, what="an old lease: the whole site")
        await raw.zrem(LEASES_ON, "0123456789abcdef0123456789abcdef")
        await raw.publish(CHANNEL, "lease")
        await _settle(READ_ONLY, holder, observer, what="only the read-only lease left")


_HOLDER = """
import asyncio
import sys

from fastapi_maintenance import maintenance_mode_on
from maintenance_core.backends.redis import RedisBackend


async def main() -> None:
    backend = RedisBackend(url=sys.argv[1], lease_ttl=float(sys.argv[2]))
    async with maintenance_mode_on(backend=backend, read_only=True):
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


async def test_the_partial_lease_of_a_killed_holder_stops_counting_when_it_expires(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    ttl = 1.0
    holder, observer = await _fleet(make_backend, raw, redis_url, 2)
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER)
    process = await anyio.open_process([sys.executable, str(script), redis_url, str(ttl)], cwd=ROOT)
    try:
        assert await _read_line(process, within=20) == "held"
        await _settle(READ_ONLY, holder, observer, what="the killed-to-be holder's lease seen")
        async with _hold(READ_ONLY_PAYMENTS, holder):
            # Together: read-only, not limited to a group (the other lease is not).
            await _settle(READ_ONLY, holder, observer)
            process.kill()  # SIGKILL: the holder crashes, its renewal with it
            killed_at = time.monotonic()
            await process.wait()
            assert await raw.zcard(LEASES_ON) == 2  # its lease outlives it...
            # ...until it expires: what is left is the live holder's lease alone, seen
            # when the lease expires (no resync for 30 s, no message).
            await eventually(
                lambda: _all_serve(READ_ONLY_PAYMENTS, holder, observer),
                within=ttl + 2,
                what="the dead lease stops counting",
            )
            took = time.monotonic() - killed_at
            assert took < ttl + 0.75, f"the dead holder's lease counted {took:.2f}s after the kill"
            assert await raw.zcard(LEASES_ON) == 1
        await _settle(None, holder, observer)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.aclose()


async def test_a_lease_whose_renewal_stopped_stops_counting_elsewhere(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    ttl = 0.5
    stalled = make_backend(url=redis_url, resync_interval=30, lease_ttl=ttl)
    await stalled.get_value()
    holder, observer = await _fleet(make_backend, raw, redis_url, 2)
    await wait_subscribed(raw, CHANNEL, count=3)
    async with fm.maintenance_mode_on(backend=stalled, read_only=True), _hold(PAYMENTS, holder):
        await _settle(WHOLE_SITE, holder, observer, what="read-only + payments: whole site")
        # The holder's renewal dies (as in a process whose event loop stopped running it).
        leases = overrides_of(stalled)
        for renewal in list(leases._renewals.values()):  # type: ignore[attr-defined]
            renewal.cancel()
        await eventually(
            lambda: _all_serve(PAYMENTS, holder, observer),
            within=ttl + 2,
            what="the unrenewed read-only lease expired",
        )
        assert await raw.zcard(LEASES_ON) == 1


async def test_the_largest_coverages_travel_whole_and_two_of_them_fit_in_a_read(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    # As many groups as a coverage may name, each as long as allowed, in 4-byte UTF-8.
    def largest(tag: str) -> Coverage:
        names = {f"{tag}{i:02d}" + "\N{GRINNING FACE}" * 97 for i in range(64)}
        assert all(len(name) == 100 for name in names)
        return Coverage(read_only=True, groups=frozenset(names))

    first, second = largest("a"), largest("b")
    one, two, observer = await _fleet(make_backend, raw, redis_url, 3)
    async with _hold(first, one), _hold(second, two):
        members = await raw.zrange(LEASES_ON, 0, -1)
        assert len(members) == 2
        assert all(20_000 < len(member) < 32 * 1024 for member in members)
        await _settle(first.union(second), one, two, observer, what="the union, every group")
    await _settle(None, one, two, observer)
