"""``MaintenanceMiddleware`` driven as a raw ASGI callable, with a fake framework adapter."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from maintenance_core import (
    DEFAULT_DETAIL,
    DEFAULT_RETRY_AFTER,
    NO_ROUTE,
    PLAIN_ROUTE,
    BackendRegistry,
    BaseStateBackend,
    EnvVarBackend,
    ForcedMode,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MaintenanceResponse,
    MemoryBackend,
    RouteInfo,
)
from maintenance_core.adapter import Adapter
from maintenance_core.state import MaintenanceState

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

DEFAULT_BODY = b'{"detail":"Service temporarily unavailable due to maintenance"}'


# --- a tiny fake framework -----------------------------------------------------------------


class FakeRequest:
    def __init__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send


class FakeResponse:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body


class FakeAdapter(Adapter):
    """Routes by path; its response objects are ``FakeResponse``."""

    def __init__(self, routes: dict[str, RouteInfo] | None = None) -> None:
        self.routes = routes if routes is not None else {"/": PLAIN_ROUTE}
        self.resolved: list[Scope] = []
        self.sent: list[FakeResponse] = []

    def resolve_route(self, scope: Scope) -> RouteInfo:
        self.resolved.append(scope)
        return self.routes.get(scope["path"], NO_ROUTE)

    def connection(self, scope: Scope, receive: Any, send: Any) -> FakeRequest:
        return FakeRequest(scope, receive, send)

    def is_response(self, value: object) -> bool:
        return isinstance(value, FakeResponse)

    async def send_response(self, response: Any, scope: Scope, receive: Any, send: Any) -> None:
        self.sent.append(response)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(b"content-type", b"text/plain"), (b"x-fake", b"yes")],
            }
        )
        half = len(response.body) // 2
        await send({"type": "http.response.body", "body": response.body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": response.body[half:]})


class RecordingApp:
    """A framework-free ASGI app that streams its answer in chunks."""

    CHUNKS = (b"first,", b"second,", b"third")

    def __init__(self) -> None:
        self.calls: list[tuple[Scope, Any, Any]] = []
        self.sent: list[Message] = []
        self.hook: Callable[[Scope], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.calls.append((scope, receive, send))
        if self.hook is not None:
            await self.hook(scope)
        if scope["type"] == "http":
            await receive()
            messages: list[Message] = [
                {"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]}
            ]
            messages += [
                {"type": "http.response.body", "body": chunk, "more_body": True}
                for chunk in self.CHUNKS
            ]
            messages.append({"type": "http.response.body", "body": b"", "more_body": False})
            for message in messages:
                self.sent.append(message)
                await send(message)
        elif scope["type"] == "websocket":
            await receive()
            for message in ({"type": "websocket.accept"}, {"type": "websocket.close"}):
                self.sent.append(message)
                await send(message)
        elif scope["type"] == "lifespan":
            message = await receive()
            assert message["type"] == "lifespan.startup"
            await send({"type": "lifespan.startup.complete"})


class Client:
    """Calls an ASGI callable with hand-made scope, receive and send."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(
        self,
        scope_type: str = "http",
        path: str = "/",
        method: str = "GET",
        extensions: dict[str, Any] | None = None,
    ) -> Exchange:
        scope: Scope = {"type": scope_type, "path": path, "headers": []}
        if scope_type == "http":
            scope["method"] = method
        if extensions is not None:
            scope["extensions"] = extensions
        exchange = Exchange(scope)
        await self.app(scope, exchange.receive, exchange.send)
        return exchange


class Exchange:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.sent: list[Message] = []
        self.received = 0

    async def receive(self) -> Message:
        self.received += 1
        if self.scope["type"] == "websocket":
            return {"type": "websocket.connect"}
        if self.scope["type"] == "lifespan":
            return {"type": "lifespan.startup"}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def build(
    *,
    on: bool = True,
    routes: dict[str, RouteInfo] | None = None,
    backend: BaseStateBackend | None = None,
    **kwargs: Any,
) -> tuple[MaintenanceMiddleware, RecordingApp, FakeAdapter, Client]:
    app = RecordingApp()
    adapter = FakeAdapter(routes)
    middleware = MaintenanceMiddleware(
        app, MaintenanceGuard(adapter=adapter, backend=backend or MemoryBackend(on), **kwargs)
    )
    return middleware, app, adapter, Client(middleware)


def assert_default_503(exchange: Exchange, *, head: bool = False) -> None:
    assert [m["type"] for m in exchange.sent] == ["http.response.start", "http.response.body"]
    start, body = exchange.sent
    assert start["status"] == 503
    assert start["headers"] == [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(DEFAULT_BODY)).encode()),
        (b"cache-control", b"no-store"),
        (b"retry-after", b"3600"),
    ]
    assert body["more_body"] is False
    if head:
        assert body["body"] == b""
    else:
        assert body["body"] == DEFAULT_BODY
        assert json.loads(body["body"]) == {"detail": DEFAULT_DETAIL}
        assert int(exchange.headers[b"content-length"]) == len(body["body"])


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- the default maintenance response ------------------------------------------------------


async def test_default_503_response() -> None:
    _, app, _, client = build(on=True)
    exchange = await client.call()
    assert_default_503(exchange)
    assert app.calls == []
    assert DEFAULT_RETRY_AFTER == 3600


async def test_head_gets_headers_and_an_empty_body() -> None:
    _, app, _, client = build(on=True)
    exchange = await client.call(method="HEAD")
    assert_default_503(exchange, head=True)
    assert app.calls == []


async def test_maintenance_off_proceeds_with_identical_callables_and_unchanged_stream() -> None:
    _, app, adapter, client = build(on=False)
    exchange = await client.call()
    assert len(app.calls) == 1
    scope, receive, send = app.calls[0]
    assert scope is exchange.scope
    # Bound methods compare equal but are new objects per access: compare the functions too.
    assert receive.__self__ is exchange
    assert receive.__func__ is Exchange.receive
    assert send.__self__ is exchange
    assert send.__func__ is Exchange.send
    # Every chunk reaches the client, in order, as the very same message objects.
    assert len(exchange.sent) == len(app.sent)
    assert all(a is b for a, b in zip(exchange.sent, app.sent, strict=True))
    assert exchange.body == b"".join(RecordingApp.CHUNKS)
    assert adapter.resolved == [exchange.scope]


async def test_proceeding_request_gets_the_very_same_callables() -> None:
    seen: list[tuple[Any, Any]] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append((receive, send))

    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(message: Message) -> None:
        return None

    middleware = MaintenanceMiddleware(
        app, MaintenanceGuard(adapter=FakeAdapter(), backend=MemoryBackend(False))
    )
    await middleware({"type": "http", "path": "/", "method": "GET"}, receive, send)
    assert len(seen) == 1
    assert seen[0][0] is receive
    assert seen[0][1] is send


@pytest.mark.parametrize(
    ("route", "path"),
    [
        (RouteInfo(exists=True, forced=ForcedMode.OFF), "/"),
        (RouteInfo(exists=True, exempt=True), "/"),
        (PLAIN_ROUTE, "/unknown"),
    ],
    ids=["forced-off", "built-in-exempt", "unknown-route"],
)
async def test_requests_that_proceed_during_maintenance(route: RouteInfo, path: str) -> None:
    _, app, _, client = build(on=True, routes={"/": route})
    exchange = await client.call(path=path)
    assert len(app.calls) == 1
    assert app.calls[0][0] is exchange.scope
    assert exchange.status == 200


async def test_forced_on_route_refused_while_maintenance_is_off() -> None:
    _, app, _, client = build(on=False, routes={"/": RouteInfo(exists=True, forced=ForcedMode.ON)})
    assert_default_503(await client.call())
    assert app.calls == []


@pytest.mark.parametrize(
    ("enable", "stored", "refused"), [(True, False, True), (False, True, False)]
)
async def test_enable_maintenance_replaces_the_backend_state(
    enable: bool, stored: bool, refused: bool
) -> None:
    _, app, _, client = build(on=stored, enable_maintenance=enable)
    exchange = await client.call()
    assert (exchange.status == 503) is refused
    assert len(app.calls) == (0 if refused else 1)


async def test_override_context_applies_to_requests() -> None:
    registry = BackendRegistry("mw_test", EnvVarBackend)
    backend = MemoryBackend(False)
    _, _, _, client = build(backend=backend, registry=registry)
    async with registry.maintenance_mode_on():
        assert (await client.call()).status == 503
    assert (await client.call()).status == 200
    await backend.set_value(True)
    async with registry.maintenance_mode_off():
        assert (await client.call()).status == 200
    assert (await client.call()).status == 503


async def test_custom_response_content_and_no_retry_after() -> None:
    content = {"detail": "Wartung \N{EM DASH} bitte später wieder", "eta": None}
    response = MaintenanceResponse(status_code=500, content=content, retry_after=None)
    _, _, _, client = build(on=True, response=response)
    exchange = await client.call()
    assert exchange.status == 500
    assert b"retry-after" not in exchange.headers
    assert json.loads(exchange.body.decode()) == content
    assert int(exchange.headers[b"content-length"]) == len(exchange.body)
    assert len(exchange.body) > len(exchange.body.decode())  # counted in bytes, not characters


async def test_failing_backend_never_breaks_requests(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenBackend(MemoryBackend):
        async def get_state(self) -> MaintenanceState:
            raise ConnectionError("store down")

    _, app, _, client = build(backend=BrokenBackend())
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        for _ in range(10):
            assert (await client.call()).status == 200
    assert len(app.calls) == 10
    assert len(errors(caplog)) == 1
    assert "store down" in errors(caplog)[0].getMessage()


# --- scopes other than http ----------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False])
async def test_lifespan_passes_through_untouched(on: bool) -> None:
    middleware, app, adapter, _ = build(on=on)
    exchange = Exchange({"type": "lifespan", "asgi": {"version": "3.0"}})
    receive, send = exchange.receive, exchange.send
    await middleware(exchange.scope, receive, send)
    assert len(app.calls) == 1
    scope, got_receive, got_send = app.calls[0]
    assert scope is exchange.scope
    assert got_receive is receive
    assert got_send is send
    assert exchange.sent == [{"type": "lifespan.startup.complete"}]
    assert adapter.resolved == []


async def test_unknown_scope_type_passes_through() -> None:
    _, app, adapter, client = build(on=True)
    exchange = await client.call(scope_type="custom.protocol")
    assert len(app.calls) == 1
    assert app.calls[0][0] is exchange.scope
    assert adapter.resolved == []


async def test_websocket_refused_with_denial_response_when_supported() -> None:
    _, app, _, client = build(on=True)
    exchange = await client.call(scope_type="websocket", extensions={"websocket.http.response": {}})
    assert app.calls == []
    assert exchange.sent == [
        {
            "type": "websocket.http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(DEFAULT_BODY)).encode()),
                (b"cache-control", b"no-store"),
                (b"retry-after", b"3600"),
            ],
        },
        {"type": "websocket.http.response.body", "body": DEFAULT_BODY, "more_body": False},
    ]


@pytest.mark.parametrize("extensions", [None, {}, {"websocket.other": {}}])
async def test_websocket_closed_with_1013_without_denial_extension(
    extensions: dict[str, Any] | None,
) -> None:
    _, app, _, client = build(on=True)
    exchange = await client.call(scope_type="websocket", extensions=extensions)
    assert app.calls == []
    assert len(exchange.sent) == 1
    message = exchange.sent[0]
    assert message["type"] == "websocket.close"
    assert message["code"] == 1013


async def test_websocket_proceeds_when_maintenance_is_off() -> None:
    _, app, _, client = build(on=False)
    exchange = await client.call(scope_type="websocket")
    assert len(app.calls) == 1
    assert app.calls[0][0] is exchange.scope
    assert [m["type"] for m in exchange.sent] == ["websocket.accept", "websocket.close"]


async def test_websocket_ignores_response_handler() -> None:
    calls: list[FakeRequest] = []

    def handler(request: FakeRequest) -> FakeResponse:
        calls.append(request)
        return FakeResponse(418, b"teapot")

    _, _, _, client = build(on=True, response_handler=handler)
    exchange = await client.call(scope_type="websocket")
    assert exchange.sent[0]["type"] == "websocket.close"
    assert calls == []


# --- response_handler ----------------------------------------------------------------------


def _sync_handler(calls: list[FakeRequest]) -> Callable[[FakeRequest], FakeResponse]:
    def handler(request: FakeRequest) -> FakeResponse:
        calls.append(request)
        return FakeResponse(418, b"custom maintenance page")

    return handler


def _async_handler(calls: list[FakeRequest]) -> Callable[[FakeRequest], Awaitable[FakeResponse]]:
    async def handler(request: FakeRequest) -> FakeResponse:
        calls.append(request)
        await anyio.lowlevel.checkpoint()
        return FakeResponse(418, b"custom maintenance page")

    return handler


@pytest.mark.parametrize("make_handler", [_sync_handler, _async_handler], ids=["sync", "async"])
async def test_custom_response_handler(make_handler: Any) -> None:
    calls: list[FakeRequest] = []
    _, app, adapter, client = build(on=True, response_handler=make_handler(calls))
    exchange = await client.call()
    assert app.calls == []
    assert len(calls) == 1
    assert calls[0].scope is exchange.scope
    assert len(adapter.sent) == 1
    assert exchange.status == 418
    assert exchange.headers[b"x-fake"] == b"yes"
    assert exchange.body == b"custom maintenance page"


@pytest.mark.parametrize("make_handler", [_sync_handler, _async_handler], ids=["sync", "async"])
async def test_custom_response_handler_head_has_empty_body(make_handler: Any) -> None:
    calls: list[FakeRequest] = []
    _, _, _, client = build(on=True, response_handler=make_handler(calls))
    exchange = await client.call(method="HEAD")
    assert exchange.status == 418
    assert exchange.headers[b"x-fake"] == b"yes"
    assert exchange.sent[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]


async def test_response_handler_not_called_when_request_proceeds() -> None:
    calls: list[FakeRequest] = []
    _, _, _, client = build(on=False, response_handler=_sync_handler(calls))
    assert (await client.call()).status == 200
    assert calls == []


def _raising_sync(request: FakeRequest) -> Any:
    raise RuntimeError("template missing")


async def _raising_async(request: FakeRequest) -> Any:
    await anyio.lowlevel.checkpoint()
    raise RuntimeError("template missing")


@pytest.mark.parametrize("handler", [_raising_sync, _raising_async], ids=["sync", "async"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_raising_response_handler_falls_back_to_default(
    handler: Any, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, app, adapter, client = build(on=True, response_handler=handler)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        exchange = await client.call(method=method)
    assert_default_503(exchange, head=method == "HEAD")
    assert app.calls == []
    assert adapter.sent == []
    logged = errors(caplog)
    assert len(logged) == 1
    assert "response_handler" in logged[0].getMessage()
    assert logged[0].exc_info is not None
    assert "template missing" in str(logged[0].exc_info[1])


@pytest.mark.parametrize(
    "returned", [None, {"detail": "x"}, "text", b"bytes", 503], ids=lambda v: type(v).__name__
)
@pytest.mark.parametrize("is_async", [False, True])
async def test_response_handler_returning_non_response_falls_back_to_default(
    returned: Any, is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def sync_handler(request: FakeRequest) -> Any:
        return returned

    async def async_handler(request: FakeRequest) -> Any:
        return returned

    handler = async_handler if is_async else sync_handler
    _, _, adapter, client = build(on=True, response_handler=handler)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        exchange = await client.call()
    assert_default_503(exchange)
    assert adapter.sent == []
    logged = errors(caplog)
    assert len(logged) == 1
    assert type(returned).__name__ in logged[0].getMessage()


# --- exempt_handler ------------------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize(
    ("answer", "refused"), [(True, False), (False, True), (1, False), ("", True)]
)
async def test_exempt_handler(is_async: bool, answer: Any, refused: bool) -> None:
    calls: list[FakeRequest] = []

    def sync_handler(request: FakeRequest) -> Any:
        calls.append(request)
        return answer

    async def async_handler(request: FakeRequest) -> Any:
        calls.append(request)
        return answer

    _, app, _, client = build(on=True, exempt_handler=async_handler if is_async else sync_handler)
    exchange = await client.call()
    assert len(calls) == 1
    assert calls[0].scope is exchange.scope
    if refused:
        assert_default_503(exchange)
        assert app.calls == []
    else:
        assert exchange.status == 200
        scope, receive, send = app.calls[0]
        assert scope is exchange.scope
        assert receive.__self__ is exchange
        assert send.__self__ is exchange


async def test_callable_objects_as_handlers() -> None:
    class AsyncExempt:
        def __init__(self) -> None:
            self.paths: list[str] = []

        async def __call__(self, request: FakeRequest) -> bool:
            self.paths.append(request.scope["path"])
            return request.scope["path"] == "/health"

    class SyncPage:
        def __call__(self, request: FakeRequest) -> FakeResponse:
            return FakeResponse(503, b"<h1>maintenance</h1>")

    exempt = AsyncExempt()
    routes = {"/": PLAIN_ROUTE, "/health": PLAIN_ROUTE}
    _, app, _, client = build(
        on=True, routes=routes, exempt_handler=exempt, response_handler=SyncPage()
    )
    page = await client.call(path="/")
    assert page.status == 503
    assert page.body == b"<h1>maintenance</h1>"
    assert (await client.call(path="/health")).status == 200
    assert exempt.paths == ["/", "/health"]
    assert len(app.calls) == 1


async def test_exempt_handler_not_called_when_off_or_marked() -> None:
    calls: list[FakeRequest] = []

    def handler(request: FakeRequest) -> bool:
        calls.append(request)
        return True

    routes = {
        "/": PLAIN_ROUTE,
        "/on": RouteInfo(exists=True, forced=ForcedMode.ON),
        "/off": RouteInfo(exists=True, forced=ForcedMode.OFF),
    }
    _, _, _, client = build(on=False, routes=routes, exempt_handler=handler)
    assert (await client.call("http", "/")).status == 200
    assert (await client.call("http", "/on")).status == 503
    assert (await client.call("http", "/off")).status == 200
    assert (await client.call("http", "/missing")).status == 200
    assert calls == []


@pytest.mark.parametrize("is_async", [False, True])
async def test_raising_exempt_handler_is_logged_and_not_exempt(
    is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def sync_handler(request: FakeRequest) -> bool:
        raise KeyError("no such header")

    async def async_handler(request: FakeRequest) -> bool:
        raise KeyError("no such header")

    _, app, _, client = build(on=True, exempt_handler=async_handler if is_async else sync_handler)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        exchange = await client.call()
    assert_default_503(exchange)
    assert app.calls == []
    logged = errors(caplog)
    assert len(logged) == 1
    assert "exempt_handler" in logged[0].getMessage()
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], KeyError)


# --- constructor checks --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exempt_handler", "response_handler"])
@pytest.mark.parametrize("value", ["not callable", 42, True])
def test_non_callable_handler_is_a_type_error(name: str, value: Any) -> None:
    with pytest.raises(TypeError, match=name):
        MaintenanceMiddleware(
            RecordingApp(),
            MaintenanceGuard(adapter=FakeAdapter(), backend=MemoryBackend(), **{name: value}),
        )


@pytest.mark.parametrize("value", [2, -1, "true", "0", "", [], 1.0])
def test_non_bool_enable_maintenance_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="enable_maintenance"):
        MaintenanceMiddleware(
            RecordingApp(),
            MaintenanceGuard(
                adapter=FakeAdapter(), backend=MemoryBackend(), enable_maintenance=value
            ),
        )


@pytest.mark.parametrize(("value", "expected"), [(1, True), (0, False)])
def test_enable_maintenance_takes_1_and_0_as_0_0_5_did(value: int, expected: bool) -> None:
    guard = MaintenanceGuard(
        adapter=FakeAdapter(), backend=MemoryBackend(), enable_maintenance=value
    )
    assert guard.enable_maintenance is expected


@pytest.mark.parametrize("value", [object(), "file", MemoryBackend, {"type": "file"}])
def test_backend_that_is_not_a_backend_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="StateBackend"):
        MaintenanceMiddleware(
            RecordingApp(), MaintenanceGuard(adapter=FakeAdapter(), backend=value)
        )


def test_backend_or_registry_is_required() -> None:
    with pytest.raises(TypeError, match="backend or a registry"):
        MaintenanceMiddleware(RecordingApp(), MaintenanceGuard(adapter=FakeAdapter()))


def test_valid_constructor_arguments_are_kept() -> None:
    backend = MemoryBackend()

    def handler(request: Any) -> bool:
        return False

    middleware, app, adapter, _ = build(
        backend=backend, enable_maintenance=False, exempt_handler=handler
    )
    assert middleware.app is app
    assert middleware.guard.adapter is adapter
    assert middleware.guard.backend is backend
    assert middleware.guard.enable_maintenance is False
    assert middleware.guard.exempt_handler is handler
    assert middleware.guard.state.backend is backend


# --- fresh messages per response -----------------------------------------------------------


async def test_response_messages_and_headers_are_fresh_per_response() -> None:
    _, _, _, client = build(on=True)
    first = await client.call()
    # An outer middleware (CORS, say) edits the messages in place.
    first.sent[0]["headers"].append((b"access-control-allow-origin", b"*"))
    first.sent[0]["headers"][0] = (b"content-type", b"text/html")
    first.sent[0]["status"] = 200
    first.sent[1]["body"] = b"changed"
    second = await client.call()
    assert_default_503(second)
    assert second.sent[0] is not first.sent[0]
    assert second.sent[0]["headers"] is not first.sent[0]["headers"]

    head = await client.call(method="HEAD")
    head.sent[0]["headers"].clear()
    assert_default_503(await client.call())


async def test_websocket_denial_headers_are_fresh_per_response() -> None:
    _, _, _, client = build(on=True)
    extensions = {"websocket.http.response": {}}
    first = await client.call(scope_type="websocket", extensions=extensions)
    first.sent[0]["headers"].append((b"x-extra", b"1"))
    second = await client.call(scope_type="websocket", extensions=extensions)
    assert len(second.sent[0]["headers"]) == 4
    assert (b"x-extra", b"1") not in second.sent[0]["headers"]
    # And the HTTP response built from the same prepared response is untouched too.
    assert_default_503(await client.call())


# --- registry binding ----------------------------------------------------------------------


async def test_registry_binding_during_requests() -> None:
    registry = BackendRegistry("mw_bind", EnvVarBackend)
    backend = MemoryBackend(False)
    middleware, app, _, client = build(backend=backend, registry=registry)
    seen: list[BaseStateBackend] = []

    async def hook(scope: Scope) -> None:
        seen.append(registry.current_backend())
        assert await registry.get_maintenance_mode() is False

    app.hook = hook
    other = MemoryBackend()
    token = registry.bind(other)  # whatever is bound outside, the request sees its own
    try:
        await client.call()
        await client.call(scope_type="lifespan")
        assert registry.current_backend() is other
    finally:
        registry.unbind(token)
    assert seen == [backend, backend]
    assert middleware.guard.backend is backend
    # Building the middleware registered its backend for code outside requests.
    assert registry.current_backend() is backend


async def test_registry_default_backend_used_when_none_given(tmp_path: Path) -> None:
    registry = BackendRegistry("mw_default", EnvVarBackend)
    registry.configure_backend("file", file_path=tmp_path / "state.txt")
    configured = registry.default_backend()
    middleware = MaintenanceMiddleware(
        RecordingApp(), MaintenanceGuard(adapter=FakeAdapter(), registry=registry)
    )
    assert middleware.guard.backend is configured
    client = Client(middleware)
    assert (await client.call()).status == 200
    await registry.set_maintenance_mode(True)
    assert (tmp_path / "state.txt").read_text(encoding="utf-8") == "1"
    assert (await client.call()).status == 503


async def test_binding_is_undone_when_the_app_raises() -> None:
    registry = BackendRegistry("mw_raise", EnvVarBackend)
    backend = MemoryBackend(False)
    _, app, _, client = build(backend=backend, registry=registry)
    outside = MemoryBackend()
    registry.register_middleware(outside)

    async def hook(scope: Scope) -> None:
        raise LookupError("handler failed")

    app.hook = hook
    with pytest.raises(LookupError, match="handler failed"):
        await client.call()
    assert registry.current_backend() is outside


async def test_two_middlewares_on_one_registry_each_bind_their_own() -> None:
    registry = BackendRegistry("mw_two", EnvVarBackend)
    backend_a, backend_b = MemoryBackend(False), MemoryBackend(False)
    _, app_a, _, client_a = build(backend=backend_a, registry=registry)
    _, app_b, _, client_b = build(backend=backend_b, registry=registry)
    a_inside, b_inside = anyio.Event(), anyio.Event()
    seen: dict[str, BaseStateBackend] = {}

    async def hook_a(scope: Scope) -> None:
        a_inside.set()
        await b_inside.wait()  # both requests are running now
        seen["a"] = registry.current_backend()

    async def hook_b(scope: Scope) -> None:
        b_inside.set()
        await a_inside.wait()
        seen["b"] = registry.current_backend()

    app_a.hook, app_b.hook = hook_a, hook_b
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client_a.call)
            tg.start_soon(client_b.call)
    assert seen == {"a": backend_a, "b": backend_b}
    assert len(app_a.calls) == len(app_b.calls) == 1


async def test_overrides_on_one_app_do_not_affect_another() -> None:
    registry = BackendRegistry("mw_iso", EnvVarBackend)
    backend_a, backend_b = MemoryBackend(False), MemoryBackend(False)
    _, _, _, client_a = build(backend=backend_a, registry=registry)
    _, _, _, client_b = build(backend=backend_b, registry=registry)
    async with registry.maintenance_mode_on(backend_a):
        assert (await client_a.call()).status == 503
        assert (await client_b.call()).status == 200


@pytest.mark.parametrize("wrapped", ["generic", "fastapi"])
def test_servers_see_the_wrapped_app_as_asgi3(wrapped: str) -> None:
    """uvicorn (and hypercorn) tell ASGI 3 apps by a coroutine function ``__call__``:
    an app served as the middleware itself must not be taken for an ASGI 2 app."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi_maintenance import MaintenanceModeMiddleware
    from maintenance_core import GenericAdapter, MaintenanceGuard, MaintenanceMiddleware

    async def raw(scope: Any, receive: Any, send: Any) -> None:
        return None

    app: Any
    if wrapped == "generic":
        guard = MaintenanceGuard(adapter=GenericAdapter(), backend=MemoryBackend())
        app = MaintenanceMiddleware(raw, guard)
    else:
        app = MaintenanceModeMiddleware(FastAPI(), backend=MemoryBackend())
    config = uvicorn.Config(app, lifespan="off", log_config=None)
    config.load()
    assert config.interface == "asgi3"
