"""Lease members that carry no coverage this version can read (garbage written by
hand, a hostile client, a later version) never break a read: such a lease counts
as maintenance of the whole site, the safe direction, requests get the
maintenance response rather than a 500, and the backend reports no problem.

Written with a raw client next to a read-only lease held by a backend, on a real
redis-server; a FastAPI app with the middleware serves from another backend.
"""

from __future__ import annotations

import logging

import fastapi_maintenance as fm
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.coverage import WHOLE_SITE, Coverage
from maintenance_core.decision import StateReader

from .conftest import BackendFactory
from .helpers import eventually, wait_subscribed

pytestmark = pytest.mark.anyio

KEY = "maintenance_mode"
CHANNEL = f"{KEY}:changed"
LEASES_ON = f"{KEY}:leases:on"
READ_ONLY = Coverage(read_only=True)
ID = b"0123456789abcdef0123456789abcdef"

GARBAGE = {
    "not JSON": ID + b":{not json",
    "read_only not a boolean": ID + b':{"read_only":"yes"}',
    "groups not a list": ID + b':{"groups":"payments"}',
    "a group not a string": ID + b':{"groups":[1]}',
    "a group too long": ID + b':{"groups":["' + b"g" * 101 + b'"]}',
    "a group with a control character": ID + b':{"groups":["a\\u0000b"]}',
    "too many groups": ID + b':{"groups":[' + b",".join(b'"g%d"' % i for i in range(65)) + b"]}",
    "a key this version does not know": ID + b':{"read_only":true,"methods":["POST"]}',
    "not UTF-8": ID + b':{"groups":["\xff\xfe"]}',
    "JSON nested past the recursion limit": b'{"groups":' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    "a JSON array in braces' place": ID + b":[1]{",
    "no coverage at all": b"\x00\xff not a lease id",
    "larger than a read fetches": ID + b':{"groups":["' + b"a" * 70_000 + b'"]}',
}


def _app(backend: RedisBackend) -> FastAPI:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    @app.post("/items")
    async def add_item() -> dict[str, bool]:
        return {"added": True}

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


async def _server_ms(raw: aioredis.Redis) -> int:
    seconds, micros = await raw.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def _add(raw: aioredis.Redis, *members: bytes) -> None:
    """Put *members* in the on-lease set for a minute, and announce it as a lease is."""
    expiry = await _server_ms(raw) + 60_000
    await raw.zadd(LEASES_ON, dict.fromkeys(members, expiry))
    await raw.publish(CHANNEL, "lease")


async def _remove(raw: aioredis.Redis, *members: bytes) -> None:
    await raw.zrem(LEASES_ON, *members)
    await raw.publish(CHANNEL, "lease")


async def _serves(backend: RedisBackend, expected: Coverage | None) -> bool:
    return await StateReader(backend).read() == expected


async def _statuses(http: httpx.AsyncClient) -> tuple[int, int]:
    return (await http.get("/items")).status_code, (await http.post("/items")).status_code


@pytest.mark.parametrize("member", list(GARBAGE.values()), ids=list(GARBAGE))
async def test_an_unreadable_lease_coverage_counts_as_the_whole_site(
    make_backend: BackendFactory,
    raw: aioredis.Redis,
    redis_url: str,
    member: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    holder = make_backend(url=redis_url, resync_interval=30)
    observer = make_backend(url=redis_url, resync_interval=30)
    async with _client(_app(observer)) as http:
        assert await _statuses(http) == (200, 200)
        await holder.get_value()
        await wait_subscribed(raw, CHANNEL, count=2)
        async with fm.maintenance_mode_on(backend=holder, read_only=True):
            await eventually(lambda: _serves(observer, READ_ONLY), within=2.0, what="read-only")
            assert await _statuses(http) == (200, 503)

            await _add(raw, member)
            await eventually(
                lambda: _serves(observer, WHOLE_SITE), within=2.0, what="garbage: whole site"
            )
            assert await _serves(holder, WHOLE_SITE)
            assert await _statuses(http) == (503, 503)  # the maintenance response, no 500
            assert observer.problem is None  # not an outage, nor an invalid stored state
            assert holder.problem is None
            assert await raw.zcard(LEASES_ON) == 2
            # Later reads go on working: a resync reads the garbage again.
            assert await observer.read_state_now() == await holder.read_state_now()
            assert await _serves(observer, WHOLE_SITE)

            await _remove(raw, member)
            await eventually(lambda: _serves(observer, READ_ONLY), within=2.0, what="cleaned")
            assert await _statuses(http) == (200, 503)
        await eventually(lambda: _serves(observer, None), within=2.0, what="off")
        assert await _statuses(http) == (200, 200)
    # Logged as a warning at most once per backend while it lasted, never as an error.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(warnings) <= 2, [r.getMessage() for r in warnings]


async def test_garbage_alone_turns_maintenance_on_for_the_whole_site(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    observer = make_backend(url=redis_url, resync_interval=30)
    async with _client(_app(observer)) as http:
        assert await _statuses(http) == (200, 200)
        await wait_subscribed(raw, CHANNEL)
        await _add(raw, ID + b":{garbage")
        await eventually(lambda: _serves(observer, WHOLE_SITE), within=2.0, what="on")
        assert await _statuses(http) == (503, 503)
        assert observer.problem is None
        await _remove(raw, ID + b":{garbage")
        await eventually(lambda: _serves(observer, None), within=2.0, what="off")
        assert await _statuses(http) == (200, 200)


async def test_an_unreadable_coverage_is_logged_once_while_it_lasts(
    make_backend: BackendFactory,
    raw: aioredis.Redis,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    observer = make_backend(url=redis_url, resync_interval=30)
    await observer.get_value()
    await _add(raw, ID + b":{garbage")
    for _ in range(5):
        assert await observer.read_state_now() is not None
        assert await _serves(observer, WHOLE_SITE)
    warnings = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert LEASES_ON in warnings[0].getMessage()
    assert "garbage" not in warnings[0].getMessage()  # the member itself is never repeated


async def test_hand_written_partial_leases_are_read_and_too_many_count_as_the_whole_site(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    observer = make_backend(url=redis_url, resync_interval=30)
    await observer.get_value()
    await wait_subscribed(raw, CHANNEL)
    # As many read-only leases as a read looks at: read-only.
    members = [b'%032x:{"read_only":true}' % i for i in range(64)]
    await _add(raw, *members)
    await eventually(lambda: _serves(observer, READ_ONLY), within=2.0, what="64: read-only")
    # One more: the read does not look at them all, and counts the whole site.
    await _add(raw, b'%032x:{"read_only":true}' % 64)
    await eventually(lambda: _serves(observer, WHOLE_SITE), within=2.0, what="65: whole site")
    assert observer.problem is None
    await _remove(raw, b'%032x:{"read_only":true}' % 64)
    await eventually(lambda: _serves(observer, READ_ONLY), within=2.0, what="64 again")
