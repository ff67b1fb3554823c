"""Markers belong to the endpoint a request is routed to, wherever it is routed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.staticfiles import StaticFiles
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)
from fastapi_maintenance.backends import MemoryBackend
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

try:  # Starlette >= 0.37 supports the websocket denial response extension in its TestClient.
    from starlette.testclient import WebSocketDenialResponse

    REFUSALS: tuple[type[BaseException], ...] = (WebSocketDisconnect, WebSocketDenialResponse)
except ImportError:  # pragma: no cover - older Starlette
    REFUSALS = (WebSocketDisconnect,)

from .helpers import client, is_maintenance

pytestmark = pytest.mark.anyio


def app_in_maintenance(**kwargs: object) -> tuple[FastAPI, MemoryBackend]:
    backend = MemoryBackend(True)
    app = FastAPI(**kwargs)  # type: ignore[arg-type]
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    return app, backend


async def test_markers_follow_included_routers_with_prefixes_and_nesting() -> None:
    app, _ = app_in_maintenance()
    inner = APIRouter(prefix="/inner")
    outer = APIRouter(prefix="/outer")

    @inner.get("/open")
    @force_maintenance_mode_off
    async def inner_open() -> dict[str, str]:
        return {"where": "inner"}

    @inner.get("/closed")
    def inner_closed() -> dict[str, str]:
        return {"where": "inner-closed"}

    @force_maintenance_mode_off  # above the route decorator
    @outer.get("/open")
    def outer_open() -> dict[str, str]:
        return {"where": "outer"}

    outer.include_router(inner)
    app.include_router(outer, prefix="/v1")

    async with client(app) as c:
        assert (await c.get("/v1/outer/inner/open")).json() == {"where": "inner"}
        assert (await c.get("/v1/outer/open")).json() == {"where": "outer"}
        assert is_maintenance(await c.get("/v1/outer/inner/closed"))


async def test_forced_on_endpoint_in_included_router_answers_503_when_maintenance_is_off() -> None:
    backend = MemoryBackend(False)
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    router = APIRouter(prefix="/api")

    @router.get("/legacy")
    @force_maintenance_mode_on
    async def legacy() -> dict[str, str]:
        return {"legacy": "yes"}

    @router.get("/current")
    async def current() -> dict[str, str]:
        return {"current": "yes"}

    app.include_router(router)
    async with client(app) as c:
        assert is_maintenance(await c.get("/api/legacy"))
        assert (await c.get("/api/current")).status_code == 200


async def test_same_path_with_another_method_is_another_endpoint() -> None:
    app, _ = app_in_maintenance()

    @app.get("/items")
    @force_maintenance_mode_off
    def list_items() -> list[int]:
        return [1, 2]

    @app.post("/items")
    def create_item() -> dict[str, int]:
        return {"id": 3}

    async with client(app) as c:
        assert (await c.get("/items")).json() == [1, 2]
        assert is_maintenance(await c.post("/items"))


async def test_unknown_paths_and_methods_keep_their_404_and_405() -> None:
    app, _ = app_in_maintenance()

    @app.get("/items/{item_id:int}")
    def read_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    async with client(app) as c:
        assert (await c.get("/nowhere")).status_code == 404
        assert (await c.get("/items/not-a-number")).status_code == 404
        assert (await c.delete("/items/1")).status_code == 405
        assert is_maintenance(await c.get("/items/1"))


async def test_routes_added_after_the_first_request_are_seen() -> None:
    app, _ = app_in_maintenance()

    @app.get("/first")
    def first() -> str:
        return "first"

    async with client(app) as c:
        assert is_maintenance(await c.get("/first"))

        @app.get("/late")
        @force_maintenance_mode_off
        def late() -> str:
            return "late"

        router = APIRouter()

        @router.get("/late-router")
        @force_maintenance_mode_off
        def late_router() -> str:
            return "late-router"

        app.include_router(router, prefix="/r")
        assert (await c.get("/late")).json() == "late"
        assert (await c.get("/r/late-router")).json() == "late-router"


async def test_route_added_to_an_already_included_router_is_seen_if_the_app_serves_it() -> None:
    backend = MemoryBackend(False)
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    router = APIRouter(prefix="/r")

    @router.get("/a")
    def a() -> str:
        return "a"

    app.include_router(router)
    async with client(app) as c:
        assert (await c.get("/r/a")).status_code == 200

        @router.get("/b")
        @force_maintenance_mode_on
        def b() -> str:
            return "b"

        served = (await c.get("/r/b")).status_code != 404
        if served:  # FastAPI 0.16x serves it: lazily included routers see new routes
            assert is_maintenance(await c.get("/r/b"))
        else:  # older FastAPI copied the routes at include time: still a plain 404
            assert (await c.get("/r/b")).status_code == 404


async def test_mounted_sub_application_markers_and_its_own_docs() -> None:
    app, _ = app_in_maintenance()
    sub = FastAPI()

    @sub.get("/open")
    @force_maintenance_mode_off
    def sub_open() -> str:
        return "sub-open"

    @sub.get("/closed")
    def sub_closed() -> str:
        return "sub-closed"

    app.mount("/sub", sub)
    async with client(app) as c:
        assert (await c.get("/sub/open")).json() == "sub-open"
        assert is_maintenance(await c.get("/sub/closed"))
        assert (await c.get("/sub/openapi.json")).status_code == 200
        assert (await c.get("/sub/nothing-here")).status_code == 404


async def test_mounted_static_files_are_guarded(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello")
    app, backend = app_in_maintenance()
    app.mount("/static", StaticFiles(directory=tmp_path), name="static")
    async with client(app) as c:
        assert is_maintenance(await c.get("/static/hello.txt"))
        await backend.set_value(False)
        assert (await c.get("/static/hello.txt")).text == "hello"


@pytest.mark.filterwarnings("ignore:The `root_path` parameter is deprecated")
@pytest.mark.parametrize("fastapi_root_path", [False, True])
async def test_root_path_does_not_bypass_or_misplace_markers(fastapi_root_path: bool) -> None:
    kwargs = {"root_path": "/api"} if fastapi_root_path else {}
    app, _ = app_in_maintenance(**kwargs)

    @app.get("/items")
    def items() -> list[str]:
        return ["a"]

    @app.get("/health")
    @force_maintenance_mode_off
    def health() -> str:
        return "ok"

    async with client(app, root_path="/api") as c:
        assert is_maintenance(await c.get("/api/items"))
        assert (await c.get("/api/health")).json() == "ok"
        assert (await c.get("/api/docs")).status_code == 200


async def test_docs_urls_are_exempt_as_configured_and_nothing_else_by_path() -> None:
    app, _ = app_in_maintenance(
        docs_url="/documentation",
        redoc_url=None,
        openapi_url="/schema.json",
        swagger_ui_oauth2_redirect_url="/documentation/oauth2",
    )

    @app.get("/docs")
    def not_the_docs() -> str:
        return "a user's own /docs route"

    @app.get("/redoc")
    def not_redoc() -> str:
        return "a user's own /redoc route"

    async with client(app) as c:
        assert (await c.get("/documentation")).status_code == 200
        assert (await c.get("/documentation/oauth2")).status_code == 200
        assert (await c.get("/schema.json")).status_code == 200
        assert is_maintenance(await c.get("/docs"))
        assert is_maintenance(await c.get("/redoc"))
        assert (await c.get("/openapi.json")).status_code == 404


async def test_default_docs_are_reachable_and_disabled_docs_are_not_exempt() -> None:
    app, _ = app_in_maintenance()
    async with client(app) as c:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert (await c.get(path)).status_code == 200, path

    closed, _ = app_in_maintenance(openapi_url=None)

    @closed.get("/openapi.json")
    def fake_schema() -> dict[str, str]:
        return {"not": "the schema"}

    async with client(closed) as c:
        assert is_maintenance(await c.get("/openapi.json"))
        assert (await c.get("/docs")).status_code == 404


async def test_sync_async_function_class_and_plain_starlette_endpoints() -> None:
    app, _ = app_in_maintenance()

    @force_maintenance_mode_off
    class Ping(HTTPEndpoint):
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("pong")

    @force_maintenance_mode_off
    def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("plain")

    app.router.routes.append(Route("/ping", Ping))
    app.router.routes.append(Route("/plain", plain))

    @app.get("/async-open")
    @force_maintenance_mode_off
    async def async_open() -> str:
        return "async"

    async with client(app) as c:
        assert (await c.get("/ping")).text == "pong"
        assert (await c.get("/plain")).text == "plain"
        assert (await c.get("/async-open")).json() == "async"


def test_websocket_markers_follow_the_websocket_endpoint() -> None:
    app, _ = app_in_maintenance()
    router = APIRouter(prefix="/ws")

    @router.websocket("/open")
    @force_maintenance_mode_off
    async def open_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    @router.websocket("/closed")
    async def closed_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("should not happen")
        await websocket.close()

    app.include_router(router)
    with TestClient(app) as c:
        with c.websocket_connect("/ws/open") as ws:
            assert ws.receive_text() == "hello"
        with pytest.raises(REFUSALS) as refused, c.websocket_connect("/ws/closed"):
            pass
        assert _refusal_status(refused.value) == 503


def _refusal_status(exc: BaseException) -> int:
    # Starlette's TestClient supports the websocket denial extension: the refusal is a
    # WebSocketDenialResponse carrying the 503; without it, a close with code 1013.
    response = getattr(exc, "status_code", None)
    if isinstance(response, int):
        return response
    if isinstance(exc, WebSocketDisconnect):
        return 503 if exc.code == 1013 else exc.code
    raise AssertionError(f"unexpected refusal {exc!r}")


async def test_forced_on_route_added_while_maintenance_is_off_is_honoured() -> None:
    # While maintenance is off, requests skip the route lookup unless some endpoint is
    # forced on; adding such an endpoint later must end that shortcut.
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=MemoryBackend(False))

    @app.get("/")
    def index() -> str:
        return "index"

    sub = FastAPI()
    app.mount("/sub", sub)
    async with client(app) as c:
        assert (await c.get("/")).status_code == 200

        @app.get("/retired")
        @force_maintenance_mode_on
        def retired() -> str:
            return "retired"

        assert is_maintenance(await c.get("/retired"))
        assert (await c.get("/")).status_code == 200

        @sub.get("/retired-too")
        @force_maintenance_mode_on
        def retired_too() -> str:
            return "retired too"

        assert is_maintenance(await c.get("/sub/retired-too"))
