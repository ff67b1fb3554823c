"""Path tricks never get a request into an endpoint that maintenance closes.

Each request is sent as a raw ASGI scope, exactly as a server would pass an
unnormalised path, to a FastAPI and a Litestar app in maintenance with a
maintained endpoint, an endpoint forced on, one forced off and an exempt
prefix. Whatever the framework answers (503, 404, a redirect), the handlers of
the closed endpoints must never run.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance import force_maintenance_mode_off as fastapi_off
from fastapi_maintenance import force_maintenance_mode_on as fastapi_on
from fastapi_maintenance.exemptions import exempt_paths
from litestar import Litestar, get
from litestar_maintenance import MaintenancePlugin
from litestar_maintenance import force_maintenance_mode_off as litestar_off
from litestar_maintenance import force_maintenance_mode_on as litestar_on
from litestar_maintenance.exemptions import exempt_paths as litestar_exempt_paths

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]


class Calls:
    def __init__(self) -> None:
        self.handlers: list[str] = []


def fastapi_app(calls: Calls) -> Any:
    app = FastAPI()

    @app.get("/items")
    def items() -> dict[str, str]:
        calls.handlers.append("items")
        return {"at": "items"}

    @app.get("/legacy")
    @fastapi_on
    def legacy() -> dict[str, str]:
        calls.handlers.append("legacy")
        return {"at": "legacy"}

    @app.get("/health")
    @fastapi_off
    def health() -> dict[str, str]:
        return {"at": "health"}

    @app.get("/admin/panel")
    def admin() -> dict[str, str]:
        return {"at": "admin"}

    app.add_middleware(
        MaintenanceModeMiddleware, enable_maintenance=True, exempt_handler=exempt_paths("/admin")
    )
    return app


def litestar_app(calls: Calls) -> Any:
    @get("/items", sync_to_thread=False)
    def items() -> dict[str, str]:
        calls.handlers.append("items")
        return {"at": "items"}

    @litestar_on
    @get("/legacy", sync_to_thread=False)
    def legacy() -> dict[str, str]:
        calls.handlers.append("legacy")
        return {"at": "legacy"}

    @litestar_off
    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"at": "health"}

    @get("/admin/panel", sync_to_thread=False)
    def admin() -> dict[str, str]:
        return {"at": "admin"}

    return Litestar(
        route_handlers=[items, legacy, health, admin],
        plugins=[
            MaintenancePlugin(
                enable_maintenance=True, exempt_handler=litestar_exempt_paths("/admin")
            )
        ],
    )


BUILDERS: dict[str, Callable[[Calls], Any]] = {"fastapi": fastapi_app, "litestar": litestar_app}


async def call(app: Any, raw_path: str, sent: list[str] | None = None) -> int:
    """Send one GET with *raw_path* as a server would (path percent-decoded once);
    record in *sent* the raw target the app was given."""
    path, _, query = raw_path.partition("?")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    if sent is not None:
        target = scope["raw_path"].decode("latin-1")
        sent.append(f"{target}?{scope['query_string'].decode('latin-1')}" if query else target)
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    assert len(statuses) == 1
    return statuses[0]


# Each trick as written, "{p}" standing for the path and "{P}" for it in capitals.
TRICKS = [
    "{p}",
    "{p}/",
    "/{p}",
    "/{p}/",
    "//{p}",
    "/.{p}",
    "{p}/.",
    "/x/..{p}",
    "/admin/..{p}",
    "/admin/%2e%2e{p}",
    "/admin%2f..{p}",
    "/health/..{p}",
    "/health%2f..{p}",
    "{p}%2f",
    "{p}%00",
    "{p};x",
    "{p}%20",
    "{P}",
    "{p}?maintenance_bypass=not-the-secret-0123456789",
]


def variants(path: str) -> list[str]:
    upper = path.upper()
    return sorted(
        {trick.replace("{p}", path).replace("{P}", upper) for trick in TRICKS}
        | {path.replace("i", "%69").replace("l", "%6C")}
    )


# What must reach the app for each target, spelled out: a trick mangled on its way
# (as a `.replace` applied to a template once sent `//items/` twice and never
# `/items/` or `//items`) fails the test instead of silently testing less.
SENT = {
    "/items": {
        "/items",
        "/items/",
        "//items",
        "//items/",
        "///items",
        "/./items",
        "/items/.",
        "/x/../items",
        "/admin/../items",
        "/admin/%2e%2e/items",
        "/admin%2f../items",
        "/health/../items",
        "/health%2f../items",
        "/items%2f",
        "/items%00",
        "/items;x",
        "/items%20",
        "/ITEMS",
        "/items?maintenance_bypass=not-the-secret-0123456789",
        "/%69tems",
    },
    "/legacy": {
        "/legacy",
        "/legacy/",
        "//legacy",
        "//legacy/",
        "///legacy",
        "/./legacy",
        "/legacy/.",
        "/x/../legacy",
        "/admin/../legacy",
        "/admin/%2e%2e/legacy",
        "/admin%2f../legacy",
        "/health/../legacy",
        "/health%2f../legacy",
        "/legacy%2f",
        "/legacy%00",
        "/legacy;x",
        "/legacy%20",
        "/LEGACY",
        "/legacy?maintenance_bypass=not-the-secret-0123456789",
        "/%6Cegacy",
    },
}


@pytest.mark.parametrize("framework", sorted(BUILDERS))
@pytest.mark.parametrize("target", ["/items", "/legacy"])
async def test_no_path_trick_reaches_a_closed_endpoint(framework: str, target: str) -> None:
    calls = Calls()
    app = BUILDERS[framework](calls)
    sent: list[str] = []
    answers = {raw: await call(app, raw, sent) for raw in variants(target)}
    # Every trick sent once, exactly as written.
    assert sorted(sent) == sorted(SENT[target]), (
        f"never sent: {sorted(SENT[target] - set(sent))}; "
        f"sent but not meant: {sorted(set(sent) - SENT[target])}"
    )
    assert calls.handlers == [], answers
    # The plain path (and the percent-encoded one, decoded once by the server) get the 503;
    # the others get the framework's own 404 or redirect, never the endpoint.
    encoded = target.replace("i", "%69").replace("l", "%6C")
    assert (answers[target], answers[encoded]) == (503, 503), answers
    assert all(status in (301, 307, 308, 404, 405, 503) for status in answers.values()), answers


@pytest.mark.parametrize("framework", sorted(BUILDERS))
async def test_the_open_endpoints_stay_open(framework: str) -> None:
    app = BUILDERS[framework](Calls())
    assert await call(app, "/health") == 200
    assert await call(app, "/admin/panel") == 200
    assert await call(app, "/items") == 503  # the control: maintenance is on
