"""The route lookup agrees with the router on what it serves and what it answers itself.

Where the router answers a request itself (a 405, a slash redirect), the app is
also built without the middleware, so the answer during maintenance is checked
against the router's own rather than against a status written down by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)
from fastapi_maintenance.backends import MemoryBackend
from maintenance_core.middleware import Receive, Scope, Send
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from .helpers import client, is_maintenance

pytestmark = pytest.mark.anyio

has_frontend = pytest.mark.skipif(
    not hasattr(APIRouter, "frontend"), reason="this FastAPI has no frontend() routes"
)


async def answer(app: Any, method: str, path: str) -> tuple[int, str | None]:
    """The status and redirect target *app* answers *method path* with."""
    async with client(app) as c:
        response = await c.request(method, path)
    return response.status_code, response.headers.get("location")


def in_maintenance(app: FastAPI) -> FastAPI:
    app.add_middleware(MaintenanceModeMiddleware, backend=MemoryBackend(True))
    return app


def api(frontend: Path | None = None, **kwargs: Any) -> FastAPI:
    """Routes with the shapes the router answers itself: POST only, marked, unmarked."""
    app = FastAPI(**kwargs)

    @app.post("/items")
    def create_item() -> str:
        return "created"

    @app.get("/health")
    @force_maintenance_mode_off
    def health() -> str:
        return "ok"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    if frontend is not None:
        app.frontend("/", directory=frontend)
    return app


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<h1>frontend</h1>")
    # The frontend could serve /plain/ too: the router's redirect comes first.
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "index.html").write_text("<h1>plain page</h1>")
    return tmp_path


# 1. FastAPI's frontend (low-priority) routes come after the router's 405 and redirects.


@has_frontend
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/items"),  # POST only: the router's 405
        ("GET", "/health/"),  # redirected to /health, which is marked off
        ("GET", "/plain/"),  # redirected to /plain, which is not marked
        ("GET", "/items/"),  # redirected even though only POST serves /items
    ],
)
async def test_frontend_app_keeps_the_routers_405_and_slash_redirects(
    dist: Path, method: str, path: str
) -> None:
    expected = await answer(api(dist), method, path)
    assert expected[0] in (405, 307)
    assert await answer(in_maintenance(api(dist)), method, path) == expected


@has_frontend
async def test_frontend_files_and_plain_routes_are_still_guarded(dist: Path) -> None:
    app = in_maintenance(api(dist))
    async with client(app) as c:
        assert is_maintenance(await c.get("/"))
        assert is_maintenance(await c.get("/index.html"))
        assert is_maintenance(await c.post("/items"))
        assert (await c.get("/health")).json() == "ok"


@has_frontend
async def test_frontend_app_without_redirect_slashes_guards_what_the_frontend_serves(
    dist: Path,
) -> None:
    # Without redirects the router hands /plain/ to the frontend: a guarded route.
    assert (await answer(api(dist, redirect_slashes=False), "GET", "/plain/"))[0] == 200
    app = in_maintenance(api(dist, redirect_slashes=False))
    async with client(app) as c:
        assert is_maintenance(await c.get("/plain/"))
        assert (await c.get("/items")).status_code == 405


@has_frontend
@pytest.mark.parametrize("shape", ["included", "mounted"])
async def test_frontend_in_included_router_or_mounted_app_keeps_405_and_redirects(
    dist: Path, shape: str
) -> None:
    def build() -> FastAPI:
        app = FastAPI()
        if shape == "included":
            router = APIRouter()

            @router.post("/items")
            def create_item() -> str:
                return "created"

            @router.get("/plain")
            def plain() -> str:
                return "plain"

            router.frontend("/", directory=dist)
            app.include_router(router, prefix="/app")
        else:
            app.mount("/app", api(dist))
        return app

    for method, path in [("GET", "/app/items"), ("GET", "/app/plain/")]:
        expected = await answer(build(), method, path)
        assert expected[0] in (405, 307), (method, path)
        assert await answer(in_maintenance(build()), method, path) == expected, (method, path)
    async with client(in_maintenance(build())) as c:
        assert is_maintenance(await c.get("/app/plain"))
        assert is_maintenance(await c.get("/app/index.html"))


# 2. Middleware between the lookup and the app, or around a mounted app, is seen through.


def sub_api() -> FastAPI:
    sub = FastAPI()

    @sub.get("/open")
    @force_maintenance_mode_off
    def sub_open() -> str:
        return "sub-open"

    @sub.get("/closed")
    def sub_closed() -> str:
        return "sub-closed"

    return sub


class Opaque:
    """An ASGI wrapper that keeps its app where the lookup cannot find it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner(scope, receive, send)


def routing_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "fastapi_maintenance.routing" and record.levelno == logging.WARNING
    ]


async def test_middleware_around_a_starlette_middleware_sees_markers_404s_405s_and_docs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="fastapi_maintenance")
    app = api()
    wrapped = MaintenanceModeMiddleware(
        CORSMiddleware(app, allow_origins=["*"]), backend=MemoryBackend(True)
    )
    async with client(wrapped) as c:
        assert (await c.get("/health")).json() == "ok"
        assert is_maintenance(await c.get("/plain"))
        assert is_maintenance(await c.post("/items"))
        assert (await c.get("/nowhere")).status_code == 404
        assert (await c.delete("/plain")).status_code == 405
        assert (await c.get("/docs")).status_code == 200
    assert routing_warnings(caplog) == []


@pytest.mark.parametrize(
    "mount",
    [
        pytest.param(lambda sub: Mount("/sub", app=GZipMiddleware(sub)), id="wrapped"),
        pytest.param(
            lambda sub: Mount("/sub", app=sub, middleware=[Middleware(GZipMiddleware)]),
            id="mount-middleware",
        ),
    ],
)
async def test_mounted_sub_app_behind_middleware_keeps_markers_404s_and_docs(
    mount: Callable[[FastAPI], Mount], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fastapi_maintenance")
    app = in_maintenance(FastAPI())
    app.router.routes.append(mount(sub_api()))
    async with client(app) as c:
        assert (await c.get("/sub/open")).json() == "sub-open"
        assert is_maintenance(await c.get("/sub/closed"))
        assert (await c.get("/sub/nowhere")).status_code == 404
        assert (await c.post("/sub/closed")).status_code == 405
        assert (await c.get("/sub/openapi.json")).status_code == 200
    assert routing_warnings(caplog) == []


async def test_forced_on_behind_a_wrapped_mount_counts_while_maintenance_is_off() -> None:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=MemoryBackend(False))
    sub = sub_api()

    @sub.get("/retired")
    @force_maintenance_mode_on
    def retired() -> str:
        return "retired"

    app.mount("/sub", GZipMiddleware(sub))
    async with client(app) as c:
        assert is_maintenance(await c.get("/sub/retired"))
        assert (await c.get("/sub/closed")).json() == "sub-closed"


async def test_forced_on_mount_that_cannot_be_seen_into_counts_while_maintenance_is_off() -> None:
    async def metrics(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("metrics")(scope, receive, send)

    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=MemoryBackend(False))
    app.mount("/metrics", force_maintenance_mode_on(metrics))
    async with client(app) as c:
        assert is_maintenance(await c.get("/metrics/"))


async def test_mount_in_an_included_router_is_seen_through_its_middleware() -> None:
    def build() -> FastAPI:
        app = FastAPI()
        router = APIRouter()
        router.mount("/sub", GZipMiddleware(sub_api()))
        app.include_router(router, prefix="/v1")
        return app

    if (await answer(build(), "GET", "/v1/sub/open"))[0] == 404:
        pytest.skip("this FastAPI does not include the mounts of an included router")
    async with client(in_maintenance(build())) as c:
        assert (await c.get("/v1/sub/open")).json() == "sub-open"
        assert is_maintenance(await c.get("/v1/sub/closed"))
        assert (await c.get("/v1/sub/nowhere")).status_code == 404


async def test_mount_that_cannot_be_seen_through_is_guarded_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="fastapi_maintenance")
    app = in_maintenance(FastAPI())
    app.mount("/sub", Opaque(sub_api()))
    async with client(app) as c:
        assert is_maintenance(await c.get("/sub/open"))
        assert is_maintenance(await c.get("/sub/nowhere"))
        assert is_maintenance(await c.get("/sub/closed"))
    warnings = routing_warnings(caplog)
    assert len(warnings) == 1
    assert "Opaque" in warnings[0]
    assert "plain route" in warnings[0]


async def test_middleware_around_an_app_it_cannot_see_guards_it_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="fastapi_maintenance")
    wrapped = MaintenanceModeMiddleware(Opaque(api()), backend=MemoryBackend(True))
    async with client(wrapped) as c:
        assert is_maintenance(await c.get("/health"))
        assert is_maintenance(await c.get("/nowhere"))
    warnings = routing_warnings(caplog)
    assert len(warnings) == 1
    assert "Opaque" in warnings[0]


# 3. Markers on the methods of a Starlette HTTPEndpoint.


def endpoint_app(endpoint: type[HTTPEndpoint], *, maintenance: bool = True) -> Starlette:
    return Starlette(
        routes=[Route("/items", endpoint)],
        middleware=[Middleware(MaintenanceModeMiddleware, backend=MemoryBackend(maintenance))],
    )


async def test_http_endpoint_method_markers_follow_the_request_method() -> None:
    class Items(HTTPEndpoint):
        @force_maintenance_mode_off
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("listed")

        async def post(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("created")

    async with client(endpoint_app(Items)) as c:
        assert (await c.get("/items")).text == "listed"
        assert (await c.head("/items")).status_code == 200  # HEAD is served by get
        assert is_maintenance(await c.post("/items"))
        assert (await c.delete("/items")).status_code == 405


async def test_http_endpoint_own_head_handler_is_the_one_that_counts() -> None:
    class Items(HTTPEndpoint):
        @force_maintenance_mode_off
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("listed")

        async def head(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("")

    async with client(endpoint_app(Items)) as c:
        assert (await c.get("/items")).text == "listed"
        assert (await c.head("/items")).status_code == 503


async def test_http_endpoint_class_marker_counts_for_every_method() -> None:
    @force_maintenance_mode_off
    class Items(HTTPEndpoint):
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("listed")

        def post(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("created")

    async with client(endpoint_app(Items)) as c:
        assert (await c.get("/items")).text == "listed"
        assert (await c.head("/items")).status_code == 200
        assert (await c.post("/items")).text == "created"
        assert (await c.delete("/items")).status_code == 405


async def test_http_endpoint_method_marker_beats_the_class_marker() -> None:
    @force_maintenance_mode_off
    class Items(HTTPEndpoint):
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("listed")

        @force_maintenance_mode_on
        async def post(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("created")

    async with client(endpoint_app(Items)) as c:
        assert (await c.get("/items")).text == "listed"
        assert is_maintenance(await c.post("/items"))


async def test_http_endpoint_method_forced_on_counts_while_maintenance_is_off() -> None:
    class Items(HTTPEndpoint):
        async def get(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("listed")

        @force_maintenance_mode_on
        async def post(self, request: Request) -> PlainTextResponse:
            return PlainTextResponse("created")

    async with client(endpoint_app(Items, maintenance=False)) as c:
        assert (await c.get("/items")).text == "listed"
        assert is_maintenance(await c.post("/items"))
        assert (await c.delete("/items")).status_code == 405
