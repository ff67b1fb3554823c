"""Partial maintenance across a fleet: two real uvicorn instances of one FastAPI app
on one real redis-server, switched by a third process's RedisBackend (here, the
test's), through the stored state and through a lease.

Each instance is polled, against a deadline, until it answers every route as
expected; nothing sleeps to wait for a change. The instances re-read the state
only when told (their resync interval is 30 s), so what they answer arrived by
the change message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import fastapi_maintenance as fm
import httpx
import pytest

from tests.support.servers import uvicorn_server

from .conftest import BackendFactory
from .helpers import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

KEY = "partial"
APP = "tests.redis.apps.partial:app"
ROUTES = (("GET", "/pay"), ("POST", "/pay"), ("GET", "/items"), ("POST", "/items"))

OFF = dict.fromkeys(ROUTES, 200)
READ_ONLY = {**OFF, ("POST", "/pay"): 503, ("POST", "/items"): 503}
READ_ONLY_PAYMENTS = {**OFF, ("POST", "/pay"): 503}
PAYMENTS = {**OFF, ("GET", "/pay"): 503, ("POST", "/pay"): 503}


@pytest.fixture
def fleet(redis_url: str) -> Iterator[list[str]]:
    """The base URLs of two uvicorn instances of the app, on the test's redis-server."""
    env = {"REDIS_URL": redis_url, "KEY": KEY}
    with ExitStack() as stack:
        yield [stack.enter_context(uvicorn_server(APP, env=env)) for _ in range(2)]


async def _answers(http: httpx.AsyncClient, url: str) -> dict[tuple[str, str], int]:
    return {
        (method, path): (await http.request(method, f"{url}{path}")).status_code
        for method, path in ROUTES
    }


async def _follow(
    http: httpx.AsyncClient, urls: list[str], expected: dict[tuple[str, str], int], what: str
) -> None:
    """Wait until every instance answers every route as *expected*."""
    last: dict[str, dict[tuple[str, str], int]] = {}

    async def all_answer() -> bool:
        for url in urls:
            last[url] = await _answers(http, url)
        return all(answers == expected for answers in last.values())

    try:
        await eventually(all_answer, within=5.0, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answers: {last}") from None


async def test_read_only_maintenance_reaches_every_uvicorn_instance(
    fleet: list[str], make_backend: BackendFactory, redis_url: str
) -> None:
    operator = make_backend(url=redis_url, key=KEY)
    async with httpx.AsyncClient(timeout=10) as http:
        await _follow(http, fleet, OFF, "all off to begin with")

        await fm.set_maintenance_mode(True, backend=operator, read_only=True)
        await _follow(http, fleet, READ_ONLY, "stored read-only: writes refused everywhere")
        await fm.set_maintenance_mode(False, backend=operator)
        await _follow(http, fleet, OFF, "stored off")

        async with fm.maintenance_mode_on(backend=operator, read_only=True):
            await _follow(http, fleet, READ_ONLY, "a read-only lease: writes refused everywhere")
        await _follow(http, fleet, OFF, "the lease released")


async def test_maintenance_of_a_route_group_reaches_every_uvicorn_instance(
    fleet: list[str], make_backend: BackendFactory, redis_url: str
) -> None:
    operator = make_backend(url=redis_url, key=KEY)
    async with httpx.AsyncClient(timeout=10) as http:
        await _follow(http, fleet, OFF, "all off to begin with")

        await fm.set_maintenance_mode(True, backend=operator, groups=["payments"], read_only=True)
        await _follow(http, fleet, READ_ONLY_PAYMENTS, "stored: writes to payments refused")
        await fm.set_maintenance_mode(False, backend=operator)
        await _follow(http, fleet, OFF, "stored off")

        async with fm.maintenance_mode_on(backend=operator, groups=["payments"], read_only=True):
            await _follow(http, fleet, READ_ONLY_PAYMENTS, "a lease: writes to payments refused")
            # A second lease on the same group, not read-only: reads refused there too.
            async with fm.maintenance_mode_on(backend=operator, groups=["payments"]):
                await _follow(http, fleet, PAYMENTS, "both leases: payments refused")
            await _follow(http, fleet, READ_ONLY_PAYMENTS, "the second lease released")
        await _follow(http, fleet, OFF, "every lease released")
