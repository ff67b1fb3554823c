"""While maintenance is off, only requests the router sends to a forced-on endpoint are refused.

The lookup tries a request against the forced-on routes alone (and the mounts that
may hold some), whatever the app's size. These tests hold it to the router: every
request is answered by the app without the middleware first, and the endpoint that
answered tells whether the middleware had to refuse it.
"""

from __future__ import annotations

import cProfile
import pstats

import pytest
from fastapi import APIRouter, FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware, force_maintenance_mode_on
from fastapi_maintenance.backends import MemoryBackend
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from .helpers import client, is_maintenance

pytestmark = pytest.mark.anyio

FORCED = "forced:"


def build() -> FastAPI:
    """Forced-on endpoints next to routes that shadow them, share their path or nest them."""
    app = FastAPI()

    @app.get("/items/special")
    def special() -> str:
        return "special"  # declared first: the router serves it, not the forced one below

    @app.get("/items/{item_id}")
    @force_maintenance_mode_on
    def item(item_id: str) -> str:
        return f"{FORCED}item"

    @app.get("/orders")
    def list_orders() -> str:
        return "orders"

    @app.post("/orders")
    @force_maintenance_mode_on
    def create_order() -> str:
        return f"{FORCED}create-order"

    @app.get("/retired/")
    @force_maintenance_mode_on
    def retired() -> str:
        return f"{FORCED}retired"

    router = APIRouter(prefix="/v2")

    @router.get("/reports/{name}")
    @force_maintenance_mode_on
    def report(name: str) -> str:
        return f"{FORCED}report"

    @router.get("/reports/today")
    def today() -> str:
        return "today"  # after the forced route with a parameter: never reached

    @router.get("/plain")
    def plain() -> str:
        return "plain"

    app.include_router(router)

    sub = FastAPI()

    @sub.get("/export")
    @force_maintenance_mode_on
    def export() -> str:
        return f"{FORCED}export"

    @sub.get("/status")
    def status() -> str:
        return "sub-status"

    app.mount("/sub", sub)

    class Billing(HTTPEndpoint):
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse('"billing"')

        @force_maintenance_mode_on
        async def delete(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse(f'"{FORCED}billing-delete"')

    app.router.routes.append(Route("/billing", Billing))
    return app


REQUESTS = [
    ("GET", "/items/special"),
    ("GET", "/items/42"),
    ("HEAD", "/items/42"),
    ("POST", "/items/42"),
    ("GET", "/orders"),
    ("POST", "/orders"),
    ("PUT", "/orders"),
    ("GET", "/retired/"),
    ("GET", "/retired"),
    ("GET", "/v2/reports/monthly"),
    ("GET", "/v2/reports/today"),
    ("GET", "/v2/plain"),
    ("GET", "/v2/nowhere"),
    ("GET", "/sub/export"),
    ("GET", "/sub/status"),
    ("GET", "/sub/export/"),
    ("GET", "/billing"),
    ("DELETE", "/billing"),
    ("GET", "/unknown"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
async def test_refused_exactly_when_the_router_reaches_a_forced_on_endpoint(
    method: str, path: str
) -> None:
    async with client(build()) as c:
        bare = await c.request(method, path, follow_redirects=False)
    guarded_app = build()
    guarded_app.add_middleware(MaintenanceModeMiddleware, backend=MemoryBackend(False))
    async with client(guarded_app) as c:
        guarded = await c.request(method, path, follow_redirects=False)

    # FastAPI's GET routes answer HEAD with 405: the router reaches no endpoint.
    if bare.status_code == 200 and FORCED in bare.text:
        assert is_maintenance(guarded)
    else:
        assert (guarded.status_code, guarded.text) == (bare.status_code, bare.text)


def match_calls(profile: cProfile.Profile) -> int:
    """How often the profiled code asked a route (or route context) whether it matches."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return sum(
        calls
        for (filename, _, name), (calls, *_) in stats.items()
        if name in ("matches", "_match") and filename.endswith("routing.py")
    )


def large_app(guarded: bool) -> FastAPI:
    """500 routes in 10 routers, and one forced-on endpoint."""
    app = FastAPI()
    for number in range(10):
        router = APIRouter(prefix=f"/r{number}")
        for item in range(50):
            router.add_api_route(f"/item{item}/{{x}}", lambda x: x, methods=["GET"])
        app.include_router(router)

    @app.get("/closed")
    @force_maintenance_mode_on
    def closed() -> str:
        return "closed"

    if guarded:
        app.add_middleware(MaintenanceModeMiddleware, backend=MemoryBackend(False))
    return app


async def test_while_off_a_large_app_pays_no_second_route_lookup() -> None:
    """Routes are asked whether they match as often as without the middleware, plus
    the one forced-on route (FastAPI asks it through its route context, which asks
    the route: two calls): not the 500 routes once more."""
    paths = ("/r9/item49/1", "/r5/item3/x", "/r0/item0/1")
    counts = []
    for guarded in (False, True):
        app = large_app(guarded)
        async with client(app) as c:
            await c.get("/r0/item0/1")  # the first request builds the indexes
            profile = cProfile.Profile()
            for path in paths:
                profile.enable()
                response = await c.get(path)
                profile.disable()
                assert response.status_code == 200
            counts.append(match_calls(profile))
            assert is_maintenance(await c.get("/closed")) is guarded
    assert counts[0] >= 500
    assert counts[1] - counts[0] <= 2 * len(paths)
