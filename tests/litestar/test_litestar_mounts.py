"""Mounted ASGI apps (``@asgi(..., is_mount=True)``): Litestar rewrites ``scope["path"]``
to the path below the mount before route middleware runs. Exemptions match the path the
client sent, which is the path Litestar routed on."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Router, asgi, get
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send
from maintenance_core.adapter import ROUTING_PATH_KEY
from maintenance_core.exemptions import exempt_paths
from maintenance_core.testing import request

from .helpers import AppFactory, statuses


async def echo_path(scope: Scope, send: Send) -> None:
    body = scope["path"].encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@asgi("/legacy", is_mount=True, copy_scope=True)
async def legacy(scope: Scope, receive: Receive, send: Send) -> None:
    await echo_path(scope, send)


@asgi("/static", is_mount=True, is_static=True, copy_scope=True)
async def static(scope: Scope, receive: Receive, send: Send) -> None:
    await echo_path(scope, send)


@asgi(["/left", "/right"], is_mount=True, copy_scope=True)
async def two_mounts(scope: Scope, receive: Receive, send: Send) -> None:
    await echo_path(scope, send)


@get("/health")
async def health() -> str:
    return "ok"


api = Router("/api", route_handlers=[legacy])

HANDLERS = [legacy, static, two_mounts, health, api]


def test_a_prefix_exempts_everything_below_the_mount(make_app: AppFactory) -> None:
    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt_paths("/legacy"))
    with TestClient(app) as client:
        assert statuses(client, "/legacy", "/legacy/", "/legacy/a/b", "/legacy/health") == {
            "/legacy": 200,
            "/legacy/": 200,
            "/legacy/a/b": 200,
            "/legacy/health": 200,
        }
        # The mounted app still sees the path below the mount.
        assert client.get("/legacy/a/b").text == "/a/b/"
        assert statuses(client, "/health", "/api/legacy/x", "/static/x") == {
            "/health": 503,
            "/api/legacy/x": 503,
            "/static/x": 503,
        }


def test_a_path_below_a_mount_is_not_the_same_path_at_the_root(make_app: AppFactory) -> None:
    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt_paths("/health"))
    with TestClient(app) as client:
        assert statuses(client, "/health", "/legacy/health", "/static/health") == {
            "/health": 200,
            "/legacy/health": 503,
            "/static/health": 503,
        }


def test_a_mount_inside_a_router_is_matched_with_the_routers_path(make_app: AppFactory) -> None:
    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt_paths("/api/legacy"))
    with TestClient(app) as client:
        assert statuses(client, "/api/legacy", "/api/legacy/z", "/legacy/z") == {
            "/api/legacy": 200,
            "/api/legacy/z": 200,
            "/legacy/z": 503,
        }


def test_a_pattern_matches_the_whole_path_the_client_sent(make_app: AppFactory) -> None:
    pattern = re.compile(r"/(legacy|static)/status")
    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt_paths(pattern))
    with TestClient(app) as client:
        assert statuses(client, "/legacy/status", "/static/status", "/legacy/status/x") == {
            "/legacy/status": 200,
            "/static/status": 200,
            "/legacy/status/x": 503,
        }


def test_a_handler_mounted_at_two_paths(make_app: AppFactory) -> None:
    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt_paths("/left"))
    with TestClient(app) as client:
        assert statuses(client, "/left/x", "/right/x", "/left", "/right") == {
            "/left/x": 200,
            "/right/x": 503,
            "/left": 200,
            "/right": 503,
        }


def test_handlers_see_the_routing_path_in_the_scope(make_app: AppFactory) -> None:
    seen: list[tuple[str, str]] = []

    def exempt(request: Any) -> bool:
        seen.append((request.scope["path"], request.scope[ROUTING_PATH_KEY]))
        return False

    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt)
    with TestClient(app) as client:
        client.get("/legacy/a")
        client.get("/api/legacy")
        client.get("/health")
    assert seen == [("/a/", "/legacy/a"), ("/", "/api/legacy"), ("/health", "/health")]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/legacy//a", 200),  # Litestar collapses "//" before routing
        ("//legacy/a", 200),
        ("/legacy/./a", 200),  # kept by Litestar; its normalised form is under /legacy too
        ("/legacy/../health", 503),  # normalised, it leaves the exempt area
        ("/legacyx", 503),  # Litestar sends it to the mount, but it is not below /legacy
    ],
)
async def test_odd_spellings_below_a_mount(make_app: AppFactory, path: str, status: int) -> None:
    app = make_app(HANDLERS, enable_maintenance=True, exempt_handler=exempt_paths("/legacy"))
    assert (await request(app, "GET", path)).status == status
