"""The adapter interface: every hook declared with its default, the path the app routes
on handed to the exemptions, a response that fails to send replaced by the default 503,
and the adapter-facing API in a namespace of its own."""

from __future__ import annotations

import importlib
import logging
from collections.abc import MutableMapping
from typing import Any

import maintenance_core
import pytest
from maintenance_core import (
    ConfigurationError,
    GenericAdapter,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MaintenanceResponse,
    MemoryBackend,
    force_maintenance_mode_on,
)
from maintenance_core.exemptions import exempt_paths

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

HOOKS = (
    "resolve_route",
    "may_force_on",
    "routing_path",
    "connection",
    "is_response",
    "send_response",
)


async def call(app: Any, path: str = "/", method: str = "GET", **scope: Any) -> list[Message]:
    """Drive one HTTP request through *app*; return the messages it sent."""
    full: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        **scope,
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(full, receive, send)
    return sent


async def ok(scope: Scope, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


# --- the protocol and the base class -------------------------------------------------------


def test_the_protocol_declares_every_hook() -> None:
    from maintenance_core.adapter import FrameworkAdapter

    for hook in HOOKS:
        assert callable(getattr(FrameworkAdapter, hook, None)), hook
        assert getattr(FrameworkAdapter, hook).__doc__, f"{hook} is not documented"


def test_the_base_class_gives_every_hook_but_route_lookup_a_default() -> None:
    from maintenance_core.adapter import PLAIN_ROUTE, Adapter, Connection

    adapter = Adapter()
    scope: Scope = {"type": "http", "path": "/api/items", "root_path": "/api", "headers": []}
    assert adapter.resolve_route(scope) is PLAIN_ROUTE
    assert adapter.may_force_on(scope) is True
    assert adapter.routing_path(scope) == "/items"
    assert isinstance(adapter.connection(scope, ok, ok), Connection)
    assert adapter.is_response(MaintenanceResponse()) is True
    assert adapter.is_response("text") is False
    for hook in HOOKS:
        assert getattr(Adapter, hook).__doc__, f"{hook} has no documented default"


def test_the_adapters_implement_the_base_class() -> None:
    from fastapi_maintenance._adapter import StarletteAdapter
    from litestar_maintenance._adapter import LitestarAdapter
    from maintenance_core.adapter import Adapter

    for adapter in (GenericAdapter(), StarletteAdapter(), LitestarAdapter()):
        assert isinstance(adapter, Adapter)


def test_the_guard_refuses_an_adapter_without_every_hook() -> None:
    class HalfAdapter:
        def resolve_route(self, scope: Scope) -> Any:
            raise AssertionError("never called")

        def connection(self, scope: Scope, receive: Any, send: Any) -> Any: ...

        def is_response(self, value: object) -> bool:
            return False

        async def send_response(self, *args: Any) -> None: ...

    with pytest.raises(ConfigurationError, match=r"may_force_on, routing_path.*Adapter"):
        MaintenanceGuard(adapter=HalfAdapter(), backend=MemoryBackend())  # type: ignore[arg-type]


async def test_may_force_on_false_skips_the_route_lookup_while_off() -> None:
    from maintenance_core.adapter import PLAIN_ROUTE, Adapter, RouteInfo

    class Counting(Adapter):
        def __init__(self, forced_on: bool) -> None:
            self.lookups = 0
            self.forced_on = forced_on

        def resolve_route(self, scope: Scope) -> RouteInfo:
            self.lookups += 1
            return PLAIN_ROUTE

        def may_force_on(self, scope: Scope) -> bool:
            return self.forced_on

    backend = MemoryBackend(False)
    for forced_on, lookups in ((False, 0), (True, 1)):
        adapter = Counting(forced_on)
        app = MaintenanceMiddleware(ok, MaintenanceGuard(adapter=adapter, backend=backend))
        sent = await call(app)
        assert sent[0]["status"] == 200
        assert adapter.lookups == lookups


# --- the path the app routes on -------------------------------------------------------------


class PrefixAdapter(GenericAdapter):
    """An app mounted under ``/v1`` by a framework that rewrites ``scope["path"]`` (as
    Litestar does for mounted apps): the adapter knows the path the client sent."""

    def routing_path(self, scope: Scope) -> str:
        return "/v1" + scope["path"]


async def test_exempt_paths_match_the_adapters_routing_path() -> None:
    from maintenance_core.adapter import ROUTING_PATH_KEY

    seen: list[str] = []
    check = exempt_paths("/v1/health")

    def exempt(request: Any) -> bool:
        seen.append(request.scope[ROUTING_PATH_KEY])
        return check(request)

    app = MaintenanceMiddleware(
        ok,
        MaintenanceGuard(
            adapter=PrefixAdapter(), backend=MemoryBackend(True), exempt_handler=exempt
        ),
    )
    # scope["path"] as the rewriting framework leaves it: "/health" under the /v1 mount.
    assert (await call(app, "/health"))[0]["status"] == 200
    assert (await call(app, "/other"))[0]["status"] == 503
    assert seen == ["/v1/health", "/v1/other"]

    plain = exempt_paths("/health")
    app = MaintenanceMiddleware(
        ok,
        MaintenanceGuard(
            adapter=PrefixAdapter(), backend=MemoryBackend(True), exempt_handler=plain
        ),
    )
    # /v1/health is not /health, whatever the rewritten scope["path"] says.
    assert (await call(app, "/health"))[0]["status"] == 503


# --- a response that fails to send -----------------------------------------------------------


async def test_a_response_failing_before_it_starts_is_replaced_by_the_default_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: Scope, receive: Any, send: Any) -> None:
        raise RuntimeError("template missing")

    app = MaintenanceMiddleware(
        ok,
        MaintenanceGuard(
            adapter=GenericAdapter(),
            backend=MemoryBackend(True),
            response_handler=lambda request: broken,
        ),
    )
    with caplog.at_level(logging.ERROR, logger="maintenance_core"):
        sent = await call(app)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"3600") in sent[0]["headers"]
    assert sent[1]["body"] == b'{"detail":"Service temporarily unavailable due to maintenance"}'
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "sending the default maintenance response" in errors[0].getMessage()
    assert errors[0].exc_info is not None


async def test_a_response_failing_after_it_started_is_logged_and_left_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def half(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        raise RuntimeError("stream broke")

    app = MaintenanceMiddleware(
        ok,
        MaintenanceGuard(
            adapter=GenericAdapter(),
            backend=MemoryBackend(True),
            response_handler=lambda request: half,
        ),
    )
    with caplog.at_level(logging.ERROR, logger="maintenance_core"):
        sent = await call(app)
    assert sent == [{"type": "http.response.start", "status": 503, "headers": []}]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "after it started" in errors[0].getMessage()


async def test_a_head_request_falls_back_without_a_body() -> None:
    async def broken(scope: Scope, receive: Any, send: Any) -> None:
        raise RuntimeError("template missing")

    app = MaintenanceMiddleware(
        ok,
        MaintenanceGuard(
            adapter=GenericAdapter(),
            backend=MemoryBackend(True),
            response_handler=lambda request: broken,
        ),
    )
    sent = await call(app, method="HEAD")
    assert sent[0]["status"] == 503
    assert sent[1]["body"] == b""


async def test_a_forced_on_route_falls_back_too() -> None:
    async def broken(scope: Scope, receive: Any, send: Any) -> None:
        raise RuntimeError("template missing")

    closed = force_maintenance_mode_on(ok)
    app = MaintenanceMiddleware(
        ok,
        MaintenanceGuard(
            adapter=GenericAdapter(lambda scope: closed),
            backend=MemoryBackend(False),
            response_handler=lambda request: broken,
        ),
    )
    assert (await call(app))[0]["status"] == 503


# --- namespaces ------------------------------------------------------------------------------

ADAPTER_FACING = (
    "ASGIApp",
    "Adapter",
    "BackendRegistry",
    "Connection",
    "ForcedMode",
    "FrameworkAdapter",
    "GenericAdapter",
    "MaintenanceConfig",
    "MaintenanceGuard",
    "MaintenanceMiddleware",
    "MaintenanceResponse",
    "NO_ROUTE",
    "PLAIN_ROUTE",
    "ROUTING_PATH_KEY",
    "Receive",
    "RouteInfo",
    "Scope",
    "Send",
    "StateReader",
    "decide",
    "forced_mode_of",
    "parse_forced_mode",
)


def test_the_adapter_facing_api_has_its_own_namespace() -> None:
    adapter_api = importlib.import_module("maintenance_core.adapter")
    for name in ADAPTER_FACING:
        assert name in adapter_api.__all__, name
        assert getattr(adapter_api, name) is not None


def test_the_top_level_lists_only_the_user_facing_api() -> None:
    for name in ("FrameworkAdapter", "Adapter", "RouteInfo", "NO_ROUTE", "PLAIN_ROUTE"):
        assert name not in maintenance_core.__all__, name
    for name in ("MaintenanceConfig", "MaintenanceGuard", "GenericAdapter", "MemoryBackend"):
        assert name in maintenance_core.__all__, name


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("maintenance_core", "FrameworkAdapter"),
        ("maintenance_core", "RouteInfo"),
        ("maintenance_core", "NO_ROUTE"),
        ("maintenance_core", "PLAIN_ROUTE"),
        ("maintenance_core", "StateReader"),
        ("maintenance_core", "decide"),
        ("maintenance_core.middleware", "FrameworkAdapter"),
        ("maintenance_core.middleware", "Scope"),
        ("maintenance_core.middleware", "Receive"),
        ("maintenance_core.middleware", "Send"),
        ("maintenance_core.middleware", "ASGIApp"),
        ("maintenance_core.generic", "Connection"),
    ],
)
def test_the_old_import_paths_keep_working(module: str, name: str) -> None:
    adapter_api = importlib.import_module("maintenance_core.adapter")
    assert getattr(importlib.import_module(module), name) is getattr(adapter_api, name)
