"""The route lookup agrees with the router on what it serves and what it answers itself.

Where the router answers a request itself (a 405, a slash redirect), the app is
also built without the middleware, so the answer during maintenance is checked
against the router's own rather than against a status written down by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware, force_maintenance_mode_off
from fastapi_maintenance.backends import MemoryBackend

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
