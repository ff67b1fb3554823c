"""Litestar's own middleware options still work on the maintenance middleware.

Without them the middleware Litestar builds into each route is the core's pure
ASGI middleware; with ``exclude_opt_key``, ``exclude_path_pattern`` or
``scopes`` set, Litestar's ASGIMiddleware machinery applies them as it does
for any other middleware.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from litestar import Litestar, Router, get
from litestar.enums import ScopeType
from litestar.testing import TestClient
from litestar_maintenance import MaintenanceModeMiddleware, force_maintenance_mode_on
from litestar_maintenance.backends import MemoryBackend
from maintenance_core.middleware import MaintenanceMiddleware


@get("/guarded")
async def guarded() -> str:
    return "guarded"


@get("/skipped", opt={"skip_maintenance": True})
async def skipped() -> str:
    return "skipped"


@get("/internal/stats")
async def stats() -> str:
    return "stats"


@get("/retired")
@force_maintenance_mode_on
async def retired() -> str:
    return "retired"


def statuses(middleware: MaintenanceModeMiddleware) -> dict[str, int]:
    app = Litestar([guarded, skipped, stats, retired], middleware=[middleware])
    with TestClient(app) as client:
        return {
            path: client.get(path).status_code
            for path in ("/guarded", "/skipped", "/internal/stats", "/retired")
        }


def test_without_options_the_route_gets_the_core_middleware() -> None:
    middleware = MaintenanceModeMiddleware(backend=MemoryBackend(False))
    assert isinstance(middleware(guarded), MaintenanceMiddleware)
    # While off, the handler forced on is still refused: Litestar routed already.
    assert statuses(middleware) == {
        "/guarded": 200,
        "/skipped": 200,
        "/internal/stats": 200,
        "/retired": 503,
    }


def test_exclude_opt_key_is_honoured() -> None:
    class Middleware(MaintenanceModeMiddleware):
        exclude_opt_key = "skip_maintenance"

    assert statuses(Middleware(backend=MemoryBackend(True))) == {
        "/guarded": 503,
        "/skipped": 200,
        "/internal/stats": 503,
        "/retired": 503,
    }


def test_exclude_path_pattern_is_honoured(recwarn: pytest.WarningsRecorder) -> None:
    class Middleware(MaintenanceModeMiddleware):
        exclude_path_pattern = "^/internal/"

    assert statuses(Middleware(backend=MemoryBackend(True))) == {
        "/guarded": 503,
        "/skipped": 503,
        "/internal/stats": 200,
        "/retired": 503,
    }


def test_scopes_are_honoured() -> None:
    class Middleware(MaintenanceModeMiddleware):
        scopes: Any = (ScopeType.WEBSOCKET,)

    # Only websockets are guarded: every HTTP request proceeds, even to a forced route.
    assert statuses(Middleware(backend=MemoryBackend(True))) == {
        "/guarded": 200,
        "/skipped": 200,
        "/internal/stats": 200,
        "/retired": 200,
    }


def test_a_subclass_with_its_own_handle_is_called() -> None:
    class HealthAware(MaintenanceModeMiddleware):
        async def handle(self, scope: Any, receive: Any, send: Any, next_app: Any) -> None:
            if dict(scope["headers"]).get(b"user-agent", b"").startswith(b"ELB-Health"):
                await next_app(scope, receive, send)
                return
            await super().handle(scope, receive, send, next_app)

    app = Litestar([guarded], middleware=[HealthAware(backend=MemoryBackend(True))])
    with TestClient(app) as client:
        assert client.get("/guarded").status_code == 503
        checker = client.get("/guarded", headers={"user-agent": "ELB-HealthChecker/2.0"})
        assert checker.status_code == 200


def test_middleware_on_a_router_guards_the_backend_it_was_given() -> None:
    """Litestar deep-copies a Router with its middleware: the copy must still switch
    with the backend the app was built with."""
    backend = MemoryBackend(False)
    router = Router(
        "/r", route_handlers=[guarded], middleware=[MaintenanceModeMiddleware(backend=backend)]
    )
    nested = Router("/outer", route_handlers=[router])
    app = Litestar([router, nested])
    with TestClient(app) as client:
        assert client.get("/r/guarded").status_code == 200
        anyio.run(backend.set_value, True)  # a memory backend belongs to no loop
        assert client.get("/r/guarded").status_code == 503
        assert client.get("/outer/r/guarded").status_code == 503
