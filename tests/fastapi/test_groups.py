"""Maintenance limited to route groups, in FastAPI and Starlette apps.

A route's groups are its OpenAPI tags as FastAPI resolves them (on the route, its
``APIRouter``, ``include_router(tags=...)`` at any depth) and the names of the
``maintenance_group`` marker on its endpoint. These tests turn maintenance on for
the ``payments`` group with a ``MemoryBackend`` and check which routes answer
``503``; they run on the oldest supported FastAPI too, where ``include_router``
copies routes with their tags merged, as on 0.16x, where included routers are lazy.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import partial
from typing import Any

import anyio
import pytest
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    maintenance_group,
    set_maintenance_mode,
)
from fastapi_maintenance import _routing as routing
from fastapi_maintenance.backends import MemoryBackend
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.starlette_compat import WebSocketDenialResponse

from .helpers import client, is_maintenance

pytestmark = pytest.mark.anyio

PAYMENTS = ["payments"]


def guarded(app: Any) -> MemoryBackend:
    """Put the middleware on *app* with a memory backend (maintenance off), returned."""
    backend = MemoryBackend()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    return backend


async def statuses(app: Any, *requests: str) -> dict[str, int]:
    """``{"METHOD /path": status}`` for each ``"METHOD /path"`` (``GET`` when no method)."""
    found: dict[str, int] = {}
    async with client(app) as c:
        for line in requests:
            method, _, path = line.rpartition(" ")
            response = await c.request(method or "GET", path)
            if response.status_code == 503:
                # The maintenance answer: the default one, or its read-only form.
                assert is_maintenance(response) or "read-only" in response.json()["detail"]
                assert response.headers["retry-after"] == "3600"
            found[line] = response.status_code
    return found


def expect(refused: Iterable[str], served: Iterable[str]) -> dict[str, int]:
    return {**dict.fromkeys(refused, 503), **dict.fromkeys(served, 200)}


def ok() -> str:
    return "ok"


# -- tags ------------------------------------------------------------------------------


async def test_the_route_s_own_tags_put_it_in_a_group() -> None:
    app = FastAPI()
    backend = guarded(app)
    app.get("/pay", tags=["payments"])(ok)
    app.get("/pay-and-more", tags=["search", "payments"])(ok)
    app.get("/search", tags=["search"])(ok)
    app.get("/untagged")(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/pay", "/pay-and-more", "/search", "/untagged") == expect(
        ["/pay", "/pay-and-more"], ["/search", "/untagged"]
    )
    await set_maintenance_mode(True, backend, groups=["search", "other"])
    assert await statuses(app, "/pay", "/pay-and-more", "/search", "/untagged") == expect(
        ["/pay-and-more", "/search"], ["/pay", "/untagged"]
    )


async def test_tags_of_every_router_layer_count() -> None:
    app = FastAPI()
    backend = guarded(app)

    tagged_router = APIRouter(prefix="/router", tags=["payments"])
    tagged_router.get("/a")(ok)

    plain_router = APIRouter(prefix="/included")
    plain_router.get("/a")(ok)

    inner = APIRouter(prefix="/inner")
    inner.get("/a")(ok)
    middle = APIRouter(prefix="/middle")
    middle.include_router(inner, tags=["payments"])  # tags given at the inner include
    middle.get("/own")(ok)

    deep = APIRouter(prefix="/deep")
    deep.get("/a")(ok)
    outer = APIRouter(prefix="/outer", tags=["payments"])  # the tags of a router above
    outer.include_router(deep)

    other = APIRouter(prefix="/other", tags=["search"])
    other.get("/a")(ok)

    app.include_router(tagged_router)
    app.include_router(plain_router, tags=["payments"])
    app.include_router(middle)
    app.include_router(outer)
    app.include_router(other)
    app.get("/root")(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(
        app,
        "/router/a",
        "/included/a",
        "/middle/inner/a",
        "/middle/own",
        "/outer/deep/a",
        "/other/a",
        "/root",
    ) == expect(
        ["/router/a", "/included/a", "/middle/inner/a", "/outer/deep/a"],
        ["/middle/own", "/other/a", "/root"],
    )


async def test_the_same_endpoint_is_grouped_by_the_route_that_reaches_it() -> None:
    app = FastAPI()
    backend = guarded(app)
    router = APIRouter()
    router.get("/a")(ok)
    app.include_router(router, prefix="/pay", tags=["payments"])
    app.include_router(router, prefix="/public")

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/pay/a", "/public/a") == expect(["/pay/a"], ["/public/a"])


class Area(enum.Enum):
    PAYMENTS = "payments"
    SEARCH = "search"


async def test_an_enum_tag_counts_as_its_value() -> None:
    app = FastAPI()
    backend = guarded(app)
    app.get("/pay", tags=[Area.PAYMENTS])(ok)
    app.get("/search", tags=[Area.SEARCH])(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/pay", "/search") == expect(["/pay"], ["/search"])


async def test_group_names_are_case_sensitive() -> None:
    app = FastAPI()
    backend = guarded(app)
    app.get("/capital", tags=["Payments"])(ok)
    app.get("/upper", tags=["PAYMENTS"])(ok)
    app.get("/marked")(maintenance_group("Payments")(ok))
    app.get("/exact", tags=["payments"])(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/capital", "/upper", "/marked", "/exact") == expect(
        ["/exact"], ["/capital", "/upper", "/marked"]
    )


# -- the marker --------------------------------------------------------------------------


async def test_the_marker_puts_an_endpoint_in_groups_above_or_below_the_route() -> None:
    app = FastAPI()
    backend = guarded(app)

    @app.get("/below")
    @maintenance_group("payments")
    def below() -> str:
        return "below"

    @maintenance_group("payments", "billing")
    @app.get("/above")
    def above() -> str:
        return "above"

    @app.get("/twice")
    @maintenance_group("billing")
    @maintenance_group("payments")
    def twice() -> str:
        return "twice"

    app.get("/plain")(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/below", "/above", "/twice", "/plain") == expect(
        ["/below", "/above", "/twice"], ["/plain"]
    )


async def test_tags_and_marker_add_up() -> None:
    app = FastAPI()
    backend = guarded(app)

    @app.get("/both", tags=["search"])
    @maintenance_group("payments")
    def both() -> str:
        return "both"

    app.get("/search", tags=["search"])(ok)

    routes = ["/both", "/search"]
    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, *routes) == expect(["/both"], ["/search"])
    await set_maintenance_mode(True, backend, groups=["search"])
    assert await statuses(app, *routes) == expect(routes, [])


async def test_a_marker_on_an_included_endpoint_follows_it() -> None:
    app = FastAPI()
    backend = guarded(app)
    router = APIRouter(prefix="/v1", tags=["search"])

    @router.get("/charge")
    @maintenance_group("payments")
    def charge() -> str:
        return "charge"

    router.get("/find")(ok)
    app.include_router(router, prefix="/api")

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/api/v1/charge", "/api/v1/find") == expect(
        ["/api/v1/charge"], ["/api/v1/find"]
    )


# -- markers and read-only keep their meaning -------------------------------------------------


async def test_a_route_forced_off_in_the_group_stays_reachable() -> None:
    app = FastAPI()
    backend = guarded(app)

    @app.post("/pay/webhook", tags=["payments"])
    @force_maintenance_mode_off
    def webhook() -> str:
        return "webhook"

    app.get("/pay", tags=["payments"])(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "POST /pay/webhook", "/pay") == expect(
        ["/pay"], ["POST /pay/webhook"]
    )


async def test_a_route_forced_on_outside_the_group_is_still_refused() -> None:
    app = FastAPI()
    backend = guarded(app)

    @app.get("/retired", tags=["search"])
    @force_maintenance_mode_on
    def retired() -> str:
        return "retired"

    app.get("/search", tags=["search"])(ok)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/retired", "/search") == expect(["/retired"], ["/search"])
    await set_maintenance_mode(False, backend)
    assert await statuses(app, "/retired", "/search") == expect(["/retired"], ["/search"])


async def test_read_only_and_groups_combine() -> None:
    app = FastAPI()
    backend = guarded(app)
    app.get("/pay", tags=["payments"])(ok)
    app.post("/pay", tags=["payments"])(ok)
    app.delete("/pay", tags=["payments"])(ok)
    app.get("/search", tags=["search"])(ok)
    app.post("/search", tags=["search"])(ok)
    app.post("/untagged")(ok)

    await set_maintenance_mode(True, backend, read_only=True, groups=PAYMENTS)
    assert await statuses(
        app,
        "GET /pay",
        "POST /pay",
        "DELETE /pay",
        "GET /search",
        "POST /search",
        "POST /untagged",
    ) == {
        "GET /pay": 200,
        "POST /pay": 503,
        "DELETE /pay": 503,
        "GET /search": 200,
        "POST /search": 200,
        "POST /untagged": 200,
    }


# -- Starlette routes, HTTPEndpoint classes, mounts, websockets -------------------------------


class Account(HTTPEndpoint):
    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("account")

    @maintenance_group("payments")
    async def post(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("charged")


@maintenance_group("payments")
class Wallet(HTTPEndpoint):
    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("wallet")

    @maintenance_group("search")
    async def put(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("put")


async def test_plain_starlette_routes_and_endpoint_classes_have_only_the_marker() -> None:
    app = FastAPI()
    backend = guarded(app)

    async def refund(request: Request) -> PlainTextResponse:
        return PlainTextResponse("refund")

    async def status(request: Request) -> PlainTextResponse:
        return PlainTextResponse("status")

    app.add_route("/refund", maintenance_group("payments")(refund))
    app.add_route("/status", status)
    app.add_route("/account", Account, methods=["GET", "POST"])
    app.add_route("/wallet", Wallet, methods=["GET", "PUT"])

    requests = ["/refund", "/status", "GET /account", "POST /account", "GET /wallet", "PUT /wallet"]
    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, *requests) == expect(
        ["/refund", "POST /account", "GET /wallet", "PUT /wallet"], ["/status", "GET /account"]
    )
    # The method's groups add to the class's.
    await set_maintenance_mode(True, backend, groups=["search"])
    assert await statuses(app, *requests) == expect(
        ["PUT /wallet"], ["/refund", "/status", "GET /account", "POST /account", "GET /wallet"]
    )


async def test_a_mounted_app_answers_with_the_groups_of_the_route_inside() -> None:
    async def refund(request: Request) -> PlainTextResponse:
        return PlainTextResponse("refund")

    async def status(request: Request) -> PlainTextResponse:
        return PlainTextResponse("status")

    starlette_app = Starlette(
        routes=[
            Route("/refund", maintenance_group("payments")(refund)),
            Route("/status", status),
            Mount("/deeper", routes=[Route("/account", Account, methods=["GET", "POST"])]),
        ]
    )
    fastapi_sub = FastAPI()
    fastapi_sub.get("/pay", tags=["payments"])(ok)
    fastapi_sub.get("/search", tags=["search"])(ok)

    app = FastAPI()
    backend = guarded(app)
    app.mount("/legacy", starlette_app)
    app.mount("/v2", fastapi_sub)
    router = APIRouter(prefix="/api", tags=["search"])  # a mount has no tags of its own
    router.get("/find")(ok)
    app.include_router(router)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(
        app,
        "/legacy/refund",
        "/legacy/status",
        "GET /legacy/deeper/account",
        "POST /legacy/deeper/account",
        "/v2/pay",
        "/v2/search",
        "/api/find",
    ) == expect(
        ["/legacy/refund", "POST /legacy/deeper/account", "/v2/pay"],
        ["/legacy/status", "GET /legacy/deeper/account", "/v2/search", "/api/find"],
    )


async def test_an_opaque_mounted_app_takes_the_marker_on_the_app() -> None:
    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("opaque")(scope, receive, send)

    async def other_app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("other")(scope, receive, send)

    app = FastAPI()
    backend = guarded(app)
    app.mount("/opaque", maintenance_group("payments")(asgi_app))
    app.mount("/other", other_app)

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/opaque/x", "/other/x") == expect(["/opaque/x"], ["/other/x"])


def _accepted(test_client: TestClient, path: str) -> bool:
    try:
        with test_client.websocket_connect(path) as ws:
            return ws.receive_text() == "hello"
    except (WebSocketDisconnect, WebSocketDenialResponse):
        return False


def test_a_websocket_is_in_the_groups_of_its_marker_only() -> None:
    app = FastAPI()
    backend = guarded(app)
    router = APIRouter(prefix="/ws", tags=["payments"])  # FastAPI gives websockets no tags

    @router.websocket("/marked")
    @maintenance_group("payments")
    async def marked(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    @router.websocket("/plain")
    async def plain(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app.include_router(router)

    anyio.run(partial(set_maintenance_mode, True, backend, groups=PAYMENTS))
    with TestClient(app) as c:
        assert not _accepted(c, "/ws/marked")
        assert _accepted(c, "/ws/plain")


# -- when the groups are found -------------------------------------------------------------


async def test_routes_added_after_the_first_request_are_grouped() -> None:
    app = FastAPI()
    backend = guarded(app)
    router = APIRouter(prefix="/late", tags=["payments"])
    router.get("/first")(ok)
    app.include_router(router)
    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    assert await statuses(app, "/late/first", "/root") == {"/late/first": 503, "/root": 404}

    app.get("/root", tags=["payments"])(ok)
    app.get("/free")(ok)
    router.get("/second")(ok)  # FastAPI 0.16x sees it through the lazy include
    paths = ["/late/first", "/root", "/free"]
    if hasattr(router, "_routes_version"):
        paths.append("/late/second")
    found = await statuses(app, *paths)
    assert found == {path: 200 if path == "/free" else 503 for path in paths}


async def test_groups_are_worked_out_once_and_never_while_maintenance_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    real = routing._tags_of

    def counting(route: object) -> frozenset[str]:
        calls.append(route)
        return real(route)

    monkeypatch.setattr(routing, "_tags_of", counting)
    resolved: list[object] = []
    real_resolve = routing.RouteResolver._resolve

    def counting_resolve(self: Any, *args: Any) -> Any:
        resolved.append(args)
        return real_resolve(self, *args)

    monkeypatch.setattr(routing.RouteResolver, "_resolve", counting_resolve)

    app = FastAPI(openapi_url=None)
    backend = guarded(app)
    app.get("/pay", tags=["payments"])(ok)
    app.get("/search", tags=["search"])(ok)

    # Off: every route answers, and no request is looked up (no groups asked for).
    assert await statuses(app, "/pay", "/search", "/pay") == expect([], ["/pay", "/search"])
    assert resolved == []
    built = len(calls)
    assert built == 2  # once per route, when the router's index was built

    await set_maintenance_mode(True, backend, groups=PAYMENTS)
    for _ in range(3):
        assert await statuses(app, "/pay", "/search") == expect(["/pay"], ["/search"])
    assert len(resolved) == 6
    assert len(calls) == built  # looked up, never worked out again

    await set_maintenance_mode(False, backend)
    before = len(resolved)
    assert await statuses(app, "/pay", "/search") == expect([], ["/pay", "/search"])
    assert len(resolved) == before
