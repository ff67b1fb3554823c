"""The helpers as ``exempt_handler`` of a FastAPI app and of a Litestar app, maintenance on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance import exemptions as fastapi_exemptions
from litestar import Litestar, get
from litestar_maintenance import MaintenancePlugin
from litestar_maintenance import exemptions as litestar_exemptions

PROXY = "192.0.2.10"
ATTACKER = "203.0.113.7"
OFFICE = "10.0.0.5"

ROUTES = ["/admin", "/admin/users", "/health/live", "/shop"]


def fastapi_app(exempt_handler: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(
        MaintenanceModeMiddleware, enable_maintenance=True, exempt_handler=exempt_handler
    )
    for route in ROUTES:
        app.add_api_route(route, lambda route=route: {"route": route})

    @app.get("/{page}")  # a catch-all, so odd paths reach an endpoint
    def page(page: str) -> dict[str, str]:
        return {"route": f"page {page}"}

    return app


def litestar_app(exempt_handler: Any) -> Litestar:
    def make(route: str) -> Any:
        @get(route, name=route, sync_to_thread=False)
        def handler() -> dict[str, str]:
            return {"route": route}

        return handler

    @get("/{page:str}", sync_to_thread=False)
    def page() -> dict[str, str]:  # Litestar checks the path parameter itself
        return {"route": "page"}

    return Litestar(
        [*(make(route) for route in ROUTES), page],
        plugins=[MaintenancePlugin(enable_maintenance=True, exempt_handler=exempt_handler)],
    )


@pytest.fixture(params=["fastapi", "litestar"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def exemptions(framework: str) -> Any:
    """The adapter's re-exporting module."""
    return fastapi_exemptions if framework == "fastapi" else litestar_exemptions


@pytest.fixture
def connect(framework: str) -> Callable[..., Any]:
    build: Callable[[Any], Any] = fastapi_app if framework == "fastapi" else litestar_app

    @asynccontextmanager
    async def connect(
        exempt_handler: Any, client: tuple[str, int] = (ATTACKER, 1234)
    ) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=build(exempt_handler), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return connect


def test_adapters_re_export_the_core_helpers() -> None:
    from maintenance_core import exemptions as core

    for module in (fastapi_exemptions, litestar_exemptions):
        assert module.exempt_paths is core.exempt_paths
        assert module.exempt_client_ips is core.exempt_client_ips
        assert module.any_of is core.any_of


@pytest.mark.anyio
async def test_exempt_paths(connect: Any, exemptions: Any) -> None:
    handler = exemptions.exempt_paths("/admin", re.compile(r"/health/\w+"))
    async with connect(handler) as client:
        for path in ("/admin", "/admin/users", "/health/live"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.json() == {"route": path}
        assert (await client.get("/shop")).status_code == 503
        # The catch-all serves it: on a '/' boundary only.
        assert (await client.get("/administrator")).status_code == 503


@pytest.mark.anyio
async def test_percent_encoded_path_decoded_once(connect: Any, exemptions: Any) -> None:
    async with connect(exemptions.exempt_paths("/admin")) as client:
        # "/%61dmin" is "/admin" once decoded: the app serves /admin, and it is exempt.
        response = await client.get("/%61dmin")
        assert response.status_code == 200
        assert response.json() == {"route": "/admin"}
        # "/%2561dmin" is "/%61dmin" once decoded and reaches the catch-all, not /admin:
        # a second decoding would have exempted it.
        assert (await client.get("/%2561dmin")).status_code == 503


@pytest.mark.anyio
async def test_exempt_client_ip(connect: Any, exemptions: Any) -> None:
    handler = exemptions.exempt_client_ips("10.0.0.0/24", "2001:db8::/32")
    async with connect(handler, client=(OFFICE, 1234)) as client:
        assert (await client.get("/shop")).status_code == 200
    async with connect(handler, client=("2001:db8::1", 1234)) as client:
        assert (await client.get("/shop")).status_code == 200
    async with connect(handler, client=("10.0.1.5", 1234)) as client:
        assert (await client.get("/shop")).status_code == 503


@pytest.mark.anyio
async def test_spoofed_forwarded_for(connect: Any, exemptions: Any) -> None:
    handler = exemptions.exempt_client_ips("10.0.0.0/24", trusted_proxies=[PROXY])
    spoofed = {"X-Forwarded-For": OFFICE}
    async with connect(handler, client=(ATTACKER, 1234)) as client:
        assert (await client.get("/shop", headers=spoofed)).status_code == 503
    async with connect(handler, client=(PROXY, 1234)) as client:
        # Through the trusted proxy, its entry is believed...
        assert (await client.get("/shop", headers=spoofed)).status_code == 200
        # ...but not what the client put before it.
        forged = {"X-Forwarded-For": f"{OFFICE}, {ATTACKER}"}
        assert (await client.get("/shop", headers=forged)).status_code == 503


@pytest.mark.anyio
async def test_any_of(connect: Any, exemptions: Any) -> None:
    async def bypass_header(request: Any) -> bool:
        return request.scope["type"] == "http" and (b"x-bypass", b"yes") in request.scope["headers"]

    handler = exemptions.any_of(
        exemptions.exempt_paths("/health"),
        exemptions.exempt_client_ips("10.0.0.0/24"),
        bypass_header,
    )
    async with connect(handler, client=(ATTACKER, 1234)) as client:
        assert (await client.get("/health/live")).status_code == 200  # by path
        assert (await client.get("/shop", headers={"X-Bypass": "yes"})).status_code == 200
        assert (await client.get("/shop")).status_code == 503  # none applies
        assert (await client.get("/admin")).status_code == 503
    async with connect(handler, client=(OFFICE, 1234)) as client:
        assert (await client.get("/shop")).status_code == 200  # by address
