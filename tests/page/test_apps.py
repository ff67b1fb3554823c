"""The page end to end, through a FastAPI app and a Litestar app in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import litestar_maintenance
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware as FastAPIMiddleware
from fastapi_maintenance.responses import maintenance_page as fastapi_page
from litestar import Litestar, get, head
from litestar_maintenance import MaintenanceModeMiddleware as LitestarMiddleware
from litestar_maintenance.responses import maintenance_page as litestar_page
from maintenance_core.testing import reset

from .test_negotiation import CHROME, FIREFOX

MAINTENANCE_BODY = {"detail": "Service temporarily unavailable due to maintenance"}
XSS_TITLE = "<script>alert(1)</script>"

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _clean_litestar_registry() -> Iterator[None]:
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


def _fastapi_app(**page: Any) -> Any:
    app = FastAPI()
    app.add_middleware(
        FastAPIMiddleware, enable_maintenance=True, response_handler=fastapi_page(**page)
    )

    @app.api_route("/", methods=["GET", "HEAD"])
    def root() -> dict[str, str]:
        return {"message": "Hello World"}

    return app


def _litestar_app(**page: Any) -> Any:
    @get("/")
    async def root() -> dict[str, str]:
        return {"message": "Hello World"}

    @head("/")
    async def root_head() -> None:
        return None

    return Litestar(
        route_handlers=[root, root_head],
        middleware=[
            LitestarMiddleware(enable_maintenance=True, response_handler=litestar_page(**page))
        ],
    )


AppFactory = Callable[..., Any]


@pytest.fixture(params=["fastapi", "litestar"])
def make_app(request: pytest.FixtureRequest) -> AppFactory:
    return _fastapi_app if request.param == "fastapi" else _litestar_app


async def _get(
    app: Any, accept: str | None, method: str = "GET", path: str = "/"
) -> httpx.Response:
    headers = {} if accept is None else {"accept": accept}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        # httpx sends "Accept: */*" unless told otherwise; drop it for "no header".
        req = client.build_request(method, path, headers=headers)
        if accept is None:
            del req.headers["accept"]
        return await client.send(req)


@pytest.mark.parametrize("accept", [CHROME, FIREFOX, "text/html"])
async def test_browser_gets_html(make_app: AppFactory, accept: str) -> None:
    response = await _get(make_app(), accept)
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["retry-after"] == "3600"
    assert response.headers["cache-control"] == "no-store"
    assert "accept" in response.headers["vary"].lower()
    assert '<html lang="en">' in response.text
    assert "<h1>Down for maintenance</h1>" in response.text
    assert "We are doing some maintenance and will be back shortly." in response.text
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/html;q=0.9", ""]
)
async def test_api_client_gets_documented_json(make_app: AppFactory, accept: str | None) -> None:
    response = await _get(make_app(title="Custom", refresh=5), accept)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "3600"
    assert response.content == b'{"detail":"Service temporarily unavailable due to maintenance"}'
    assert response.json() == MAINTENANCE_BODY


async def test_head_gets_headers_without_body(make_app: AppFactory) -> None:
    html = await _get(make_app(), CHROME, method="HEAD")
    assert html.status_code == 503
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["retry-after"] == "3600"
    assert html.content == b""
    api = await _get(make_app(), "application/json", method="HEAD")
    assert api.status_code == 503
    assert api.headers["content-type"] == "application/json"
    assert api.content == b""


async def test_refresh_meta_present_and_absent(make_app: AppFactory) -> None:
    with_refresh = await _get(make_app(refresh=45), CHROME)
    assert '<meta http-equiv="refresh" content="45">' in with_refresh.text
    assert "refreshes itself every 45 seconds" in with_refresh.text
    without = await _get(make_app(), CHROME)
    assert "http-equiv" not in without.text
    assert "refreshes itself" not in without.text


async def test_custom_text_is_escaped(make_app: AppFactory) -> None:
    response = await _get(make_app(title=XSS_TITLE, message="a < b & c"), CHROME)
    assert response.status_code == 503
    assert "<script" not in response.text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in response.text
    assert "<p>a &lt; b &amp; c</p>" in response.text


async def test_no_handler_keeps_default_json() -> None:
    app = FastAPI()
    app.add_middleware(FastAPIMiddleware, enable_maintenance=True)

    @app.get("/")
    def root() -> dict[str, str]:
        return {"message": "Hello World"}

    response = await _get(app, CHROME)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json() == MAINTENANCE_BODY


async def test_page_is_rendered_once(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(title="Once")

    def fail(*args: object, **kwargs: object) -> str:
        raise AssertionError("render_page called per request")

    monkeypatch.setattr("maintenance_core.page.render_page", fail)
    for _ in range(2):
        response = await _get(app, CHROME)
        assert "<h1>Once</h1>" in response.text
