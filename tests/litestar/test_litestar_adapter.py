"""The Litestar adapter seen from a client: markers on every Litestar layer, the
decorators, websockets, built-in exemptions, the user's handlers, HEAD, middleware
order and CORS.

Most tests take the ``make_app`` fixture and run twice, once with
``MaintenancePlugin`` and once with ``MaintenanceModeMiddleware``: both must
behave the same.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from litestar import (
    Controller,
    Litestar,
    Request,
    Response,
    Router,
    WebSocket,
    asgi,
    get,
    head,
    post,
    route,
    websocket,
    websocket_listener,
)
from litestar.config.cors import CORSConfig
from litestar.middleware import ASGIMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.response.base import ASGIResponse
from litestar.testing import TestClient, create_test_client
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar_maintenance import (
    MaintenanceModeMiddleware,
    MaintenancePlugin,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)
from litestar_maintenance.backends import MemoryBackend

from .helpers import (
    MAINTENANCE_BODY,
    WS_TRY_AGAIN_LATER,
    AppFactory,
    assert_maintenance,
    echo_socket,
    statuses,
    websocket_result,
)

OFF = {"maintenance_mode": "off"}
ON = {"maintenance_mode": "on"}

try:  # the body marker of newer Litestar; older releases take the plain annotation
    from litestar.params import JSONBody

    EchoBody: Any = JSONBody[dict[str, Any]]
except ImportError:  # pragma: no cover - Litestar < 2.19
    EchoBody = dict[str, Any]


@get("/", sync_to_thread=False)
def index() -> dict[str, str]:
    return {"page": "index"}


# --------------------------------------------------------------------------- basics


def test_off_passes_through_and_on_answers_503(make_app: AppFactory) -> None:
    backend = MemoryBackend(False)
    with TestClient(make_app([index], backend=backend)) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.json() == {"page": "index"}

        anyio.run(backend.set_value, True)
        assert_maintenance(client.get("/"))


@pytest.mark.parametrize("enabled", [True, False])
def test_enable_maintenance_overrides_the_backend(make_app: AppFactory, enabled: bool) -> None:
    app = make_app([index], enable_maintenance=enabled, backend=MemoryBackend(not enabled))
    with TestClient(app) as client:
        assert client.get("/").status_code == (503 if enabled else 200)


def test_create_test_client_with_the_plugin() -> None:
    with create_test_client(
        [index], plugins=[MaintenancePlugin(enable_maintenance=True)]
    ) as client:
        assert_maintenance(client.get("/"))


# --------------------------------------------------------------------------- opt markers


class OnController(Controller):
    path = "/ctl"
    opt = ON

    @get("/inherit")
    async def inherit(self) -> str:
        return "ctl-inherit"

    @get("/handler-off", opt=OFF)
    async def handler_off(self) -> str:
        return "ctl-handler-off"


class OffController(Controller):
    path = "/off-ctl"
    opt = OFF

    @get("/inherit")
    async def inherit(self) -> str:
        return "off-ctl-inherit"


@get("/plain")
async def plain() -> str:
    return "plain"


@get("/inherit")
async def router_off_inherit() -> str:
    return "r-off-inherit"


@get("/handler-on", opt=ON)
async def router_off_handler_on() -> str:
    return "r-off-handler-on"


@get("/plain")
async def outer_plain() -> str:
    return "outer-plain"


@get("/plain")
async def inner_plain() -> str:
    return "inner-plain"


@get("/on", opt=ON)
async def inner_on() -> str:
    return "inner-on"


@get("/plain")
async def deep_plain() -> str:
    return "deep-plain"


def layered_handlers() -> list[Any]:
    """Controller on; Router off; nested Routers on > off > (none); a Controller off under on."""
    router_off = Router(
        "/r-off", route_handlers=[router_off_inherit, router_off_handler_on], opt=OFF
    )
    deep = Router("/deep", route_handlers=[deep_plain])  # no opt: inherits inner's "off"
    inner = Router("/inner", route_handlers=[inner_plain, inner_on, deep], opt=OFF)
    outer = Router("/outer", route_handlers=[outer_plain, inner, OffController], opt=ON)
    return [plain, OnController, router_off, outer]


# path -> what the closest layer says ("on", "off") or None: follows the global state.
LAYERED_EXPECTATIONS: dict[str, str | None] = {
    "/plain": None,
    "/ctl/inherit": "on",  # Controller on
    "/ctl/handler-off": "off",  # Controller on, handler off: the handler wins
    "/r-off/inherit": "off",  # Router off
    "/r-off/handler-on": "on",  # Router off, handler on: the handler wins
    "/outer/plain": "on",  # outer Router on
    "/outer/inner/plain": "off",  # inner Router off beats outer on
    "/outer/inner/on": "on",  # handler on beats inner off
    "/outer/inner/deep/plain": "off",  # a Router without opt inherits from inner
    "/outer/off-ctl/inherit": "off",  # Controller off under a Router on
}


@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
def test_opt_markers_closest_layer_wins(make_app: AppFactory, maintenance: bool) -> None:
    app = make_app(layered_handlers(), enable_maintenance=maintenance)
    expected = {
        path: 503 if marker == "on" or (marker is None and maintenance) else 200
        for path, marker in LAYERED_EXPECTATIONS.items()
    }
    with TestClient(app) as client:
        assert statuses(client, *LAYERED_EXPECTATIONS) == expected
        # A request that proceeds reaches the handler it was routed to.
        assert client.get("/outer/inner/deep/plain").text == "deep-plain"
        assert_maintenance(client.get("/r-off/handler-on"))


@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
def test_app_level_opt(make_app: AppFactory, maintenance: bool) -> None:
    @get("/handler-on", opt=ON)
    async def handler_on() -> str:
        return "on"

    app = make_app([plain, handler_on], enable_maintenance=maintenance, opt=OFF)
    with TestClient(app) as client:
        assert statuses(client, "/plain", "/handler-on") == {"/plain": 200, "/handler-on": 503}

    router = Router("/r", route_handlers=[router_off_inherit], opt=OFF)
    app = make_app([plain, router], enable_maintenance=maintenance, opt=ON)
    with TestClient(app) as client:
        assert statuses(client, "/plain", "/r/inherit") == {"/plain": 503, "/r/inherit": 200}


def test_opt_value_forms(make_app: AppFactory) -> None:
    """The core's parsing: "on"/"off" in any case, with spaces, or a ForcedMode."""
    from maintenance_core import ForcedMode

    @get("/upper", opt={"maintenance_mode": " OFF "})
    async def upper() -> str:
        return "upper"

    @get("/enum", opt={"maintenance_mode": ForcedMode.OFF})
    async def enum_value() -> str:
        return "enum"

    with TestClient(make_app([upper, enum_value, plain], enable_maintenance=True)) as client:
        assert statuses(client, "/upper", "/enum", "/plain") == {
            "/upper": 200,
            "/enum": 200,
            "/plain": 503,
        }


@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
def test_invalid_opt_value_is_logged_and_ignored(
    make_app: AppFactory, maintenance: bool, log_records: list[logging.LogRecord]
) -> None:
    @get("/maybe", opt={"maintenance_mode": "maybe"})
    async def maybe() -> str:
        return "maybe"

    with TestClient(make_app([maybe], enable_maintenance=maintenance)) as client:
        for _ in range(2):
            response = client.get("/maybe")
            # No 500: the marker is ignored and the global state decides.
            if maintenance:
                assert_maintenance(response)
            else:
                assert response.status_code == 200
                assert response.text == "maybe"
    errors = [r for r in log_records if r.levelno == logging.ERROR]
    assert errors, "an invalid marker must be logged"
    assert all(r.name == "litestar_maintenance" for r in errors)
    assert any("'maybe'" in r.getMessage() for r in errors)


# --------------------------------------------------------------------------- decorators


@force_maintenance_mode_off
@get("/above-off-async")
async def above_off_async() -> str:
    return "above-off-async"


@get("/below-off-async")
@force_maintenance_mode_off
async def below_off_async() -> str:
    return "below-off-async"


@force_maintenance_mode_off
@get("/above-off-sync", sync_to_thread=False)
def above_off_sync() -> str:
    return "above-off-sync"


@get("/below-off-sync", sync_to_thread=False)
@force_maintenance_mode_off
def below_off_sync() -> str:
    return "below-off-sync"


@force_maintenance_mode_on
@get("/above-on-async")
async def above_on_async() -> str:
    return "above-on-async"


@get("/below-on-async")
@force_maintenance_mode_on
async def below_on_async() -> str:
    return "below-on-async"


@force_maintenance_mode_on
@get("/above-on-sync", sync_to_thread=False)
def above_on_sync() -> str:
    return "above-on-sync"


@get("/below-on-sync", sync_to_thread=False)
@force_maintenance_mode_on
def below_on_sync() -> str:
    return "below-on-sync"


DECORATED_OFF = [above_off_async, below_off_async, above_off_sync, below_off_sync]
DECORATED_ON = [above_on_async, below_on_async, above_on_sync, below_on_sync]


def test_decorators_above_and_below_route_decorator(make_app: AppFactory) -> None:
    off_paths = ["/above-off-async", "/below-off-async", "/above-off-sync", "/below-off-sync"]
    on_paths = ["/above-on-async", "/below-on-async", "/above-on-sync", "/below-on-sync"]
    handlers = [*DECORATED_OFF, *DECORATED_ON, plain]

    with TestClient(make_app(handlers, enable_maintenance=True)) as client:
        for path in off_paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.text == path.lstrip("/")
        for path in [*on_paths, "/plain"]:
            assert_maintenance(client.get(path))

    with TestClient(make_app(handlers, enable_maintenance=False)) as client:
        assert statuses(client, *off_paths, "/plain") == dict.fromkeys([*off_paths, "/plain"], 200)
        for path in on_paths:
            assert_maintenance(client.get(path))


def test_decorators_above_route_decorator_with_sync_to_thread(make_app: AppFactory) -> None:
    @force_maintenance_mode_off
    @get("/off", sync_to_thread=True)
    def off() -> str:
        return "off"

    @force_maintenance_mode_on
    @get("/on", sync_to_thread=True)
    def on() -> str:
        return "on"

    with TestClient(make_app([off, on, plain], enable_maintenance=True)) as client:
        assert statuses(client, "/off", "/on", "/plain") == {"/off": 200, "/on": 503, "/plain": 503}
    with TestClient(make_app([off, on, plain], enable_maintenance=False)) as client:
        assert statuses(client, "/off", "/on", "/plain") == {"/off": 200, "/on": 503, "/plain": 200}


def test_decorators_below_route_decorator_with_sync_to_thread(make_app: AppFactory) -> None:
    @get("/off", sync_to_thread=True)
    @force_maintenance_mode_off
    def off() -> str:
        return "off"

    @get("/on", sync_to_thread=True)
    @force_maintenance_mode_on
    def on() -> str:
        return "on"

    # expected: /off 200 during maintenance, /on 503 outside it; actual: markers ignored
    with TestClient(make_app([off, plain], enable_maintenance=True)) as client:
        assert statuses(client, "/off", "/plain") == {"/off": 200, "/plain": 503}
    with TestClient(make_app([on, plain], enable_maintenance=False)) as client:
        assert statuses(client, "/on", "/plain") == {"/on": 503, "/plain": 200}


def test_decorator_marks_without_wrapping() -> None:
    async def fn() -> str:
        return "x"

    assert force_maintenance_mode_off(fn) is fn
    handler = get("/x")(fn)
    assert force_maintenance_mode_on(handler) is handler
    assert handler.opt["maintenance_mode"] == "on"


class DecoratedMethods(Controller):
    path = "/methods"

    @force_maintenance_mode_off
    @get("/above-off")
    async def above_off(self) -> str:
        return "above-off"

    @get("/below-off", sync_to_thread=False)
    @force_maintenance_mode_off
    def below_off(self) -> str:
        return "below-off"

    @force_maintenance_mode_on
    @get("/above-on", sync_to_thread=False)
    def above_on(self) -> str:
        return "above-on"

    @get("/below-on")
    @force_maintenance_mode_on
    async def below_on(self) -> str:
        return "below-on"

    @get("/plain")
    async def plain(self) -> str:
        return "plain"


@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
def test_decorators_on_controller_methods(make_app: AppFactory, maintenance: bool) -> None:
    with TestClient(make_app([DecoratedMethods], enable_maintenance=maintenance)) as client:
        assert statuses(
            client,
            "/methods/above-off",
            "/methods/below-off",
            "/methods/above-on",
            "/methods/below-on",
            "/methods/plain",
        ) == {
            "/methods/above-off": 200,
            "/methods/below-off": 200,
            "/methods/above-on": 503,
            "/methods/below-on": 503,
            "/methods/plain": 503 if maintenance else 200,
        }
        assert client.get("/methods/below-off").text == "below-off"


@force_maintenance_mode_off
class OffDecoratedController(Controller):
    path = "/off-class"
    opt = {"owner": "docs"}  # noqa: RUF012

    @get("/plain")
    async def plain(self) -> str:
        return "off-class"

    @get("/below-on")
    @force_maintenance_mode_on
    async def below_on(self) -> str:
        return "below-on"

    @get("/opt-on", opt=ON)
    async def opt_on(self) -> str:
        return "opt-on"


@force_maintenance_mode_on
class OnDecoratedController(Controller):
    path = "/on-class"
    opt = {}  # noqa: RUF012

    @get("/plain")
    async def plain(self) -> str:
        return "on-class"

    @force_maintenance_mode_off
    @get("/above-off")
    async def above_off(self) -> str:
        return "above-off"


@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
def test_decorator_on_controller_class(make_app: AppFactory, maintenance: bool) -> None:
    # The decorator keeps the controller's other opt keys.
    assert OffDecoratedController.opt == {"owner": "docs", "maintenance_mode": "off"}
    app = make_app([OffDecoratedController, OnDecoratedController], enable_maintenance=maintenance)
    with TestClient(app) as client:
        assert statuses(
            client,
            "/off-class/plain",
            "/off-class/below-on",
            "/off-class/opt-on",
            "/on-class/plain",
            "/on-class/above-off",
        ) == {
            "/off-class/plain": 200,
            "/off-class/below-on": 503,  # the handler's own marker beats the class
            "/off-class/opt-on": 503,
            "/on-class/plain": 503,
            "/on-class/above-off": 200,
        }
        assert client.get("/off-class/plain").text == "off-class"


def test_decorator_on_controller_class_without_own_opt(make_app: AppFactory) -> None:
    class Health(Controller):
        path = "/health"

        @get("/")
        async def health(self) -> dict[str, str]:
            return {"status": "ok"}

    decorated = force_maintenance_mode_off(Health)  # expected: marks the class; actual: TypeError
    assert decorated is Health
    with TestClient(make_app([Health, index], enable_maintenance=True)) as client:
        assert statuses(client, "/health", "/") == {"/health": 200, "/": 503}


@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
def test_decorator_on_router(make_app: AppFactory, maintenance: bool) -> None:
    off_router = force_maintenance_mode_off(Router("/off", route_handlers=[router_off_inherit]))
    on_router = force_maintenance_mode_on(Router("/on", route_handlers=[outer_plain]))
    app = make_app([off_router, on_router, plain], enable_maintenance=maintenance)
    with TestClient(app) as client:
        assert statuses(client, "/off/inherit", "/on/plain", "/plain") == {
            "/off/inherit": 200,
            "/on/plain": 503,
            "/plain": 503 if maintenance else 200,
        }


def test_decorator_below_route_decorator_beats_router_opt(make_app: AppFactory) -> None:
    @get("/marked")
    @force_maintenance_mode_off
    async def marked() -> str:
        return "marked"

    @get("/unmarked")
    async def unmarked() -> str:
        return "unmarked"

    router = Router("/r", route_handlers=[marked, unmarked], opt=ON)
    with TestClient(make_app([router], enable_maintenance=False)) as client:
        assert statuses(client, "/r/marked", "/r/unmarked") == {
            "/r/marked": 200,
            "/r/unmarked": 503,
        }


@asgi("/mounted", is_mount=True, copy_scope=True)
@force_maintenance_mode_off
async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
    await ASGIResponse(body=b"mounted")(scope, receive, send)


@asgi("/raw-asgi", copy_scope=True)
async def raw_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    await ASGIResponse(body=b"raw")(scope, receive, send)


def test_asgi_handlers_and_mounts(make_app: AppFactory) -> None:
    with TestClient(make_app([mounted, raw_asgi], enable_maintenance=True)) as client:
        assert client.get("/mounted/any/sub/path").text == "mounted"
        assert_maintenance(client.get("/raw-asgi"))


# --------------------------------------------------------------------------- websockets


@websocket("/ws")
async def ws_plain(socket: WebSocket[Any, Any, Any]) -> None:
    await echo_socket(socket)


@force_maintenance_mode_off
@websocket("/ws-above-off")
async def ws_above_off(socket: WebSocket[Any, Any, Any]) -> None:
    await echo_socket(socket)


@websocket("/ws-below-off")
@force_maintenance_mode_off
async def ws_below_off(socket: WebSocket[Any, Any, Any]) -> None:
    await echo_socket(socket)


@websocket("/ws-opt-off", opt=OFF)
async def ws_opt_off(socket: WebSocket[Any, Any, Any]) -> None:
    await echo_socket(socket)


@websocket("/ws-below-on")
@force_maintenance_mode_on
async def ws_below_on(socket: WebSocket[Any, Any, Any]) -> None:
    await echo_socket(socket)


@force_maintenance_mode_off
@websocket_listener("/listener-above-off")
async def listener_above_off(data: str) -> str:
    return f"echo:{data}"


@websocket_listener("/listener")
async def listener_plain(data: str) -> str:
    return f"echo:{data}"


WS_HANDLERS = [ws_plain, ws_above_off, ws_below_off, ws_opt_off, ws_below_on]


def test_websocket_refused_during_maintenance_and_reachable_when_forced_off(
    make_app: AppFactory,
) -> None:
    handlers = [*WS_HANDLERS, listener_above_off, listener_plain]
    # Litestar's test client offers no websocket.http.response extension: the
    # handshake is refused with close code 1013 (try again later).
    with TestClient(make_app(handlers, enable_maintenance=True)) as client:
        assert websocket_result(client, "/ws") == WS_TRY_AGAIN_LATER
        assert websocket_result(client, "/listener") == WS_TRY_AGAIN_LATER
        assert websocket_result(client, "/ws-below-on") == WS_TRY_AGAIN_LATER
        for path in ("/ws-above-off", "/ws-below-off", "/ws-opt-off", "/listener-above-off"):
            assert websocket_result(client, path) == "echo:ping", path

    with TestClient(make_app(handlers, enable_maintenance=False)) as client:
        assert websocket_result(client, "/ws") == "echo:ping"
        assert websocket_result(client, "/listener") == "echo:ping"
        assert websocket_result(client, "/ws-below-on") == WS_TRY_AGAIN_LATER


def test_decorator_below_websocket_listener(make_app: AppFactory) -> None:
    @websocket_listener("/listener-below-off")
    @force_maintenance_mode_off
    async def listener_below_off(data: str) -> str:
        return f"echo:{data}"

    with TestClient(make_app([listener_below_off], enable_maintenance=True)) as client:
        # expected: "echo:ping" (forced off); actual: closed with 1013
        assert websocket_result(client, "/listener-below-off") == "echo:ping"


def test_websocket_denial_response_when_the_server_supports_it(make_app: AppFactory) -> None:
    """With the ASGI ``websocket.http.response`` extension in the scope (uvicorn has it),
    the handshake is refused with the same 503 as HTTP, through Litestar's own routing."""
    app = make_app([ws_plain], enable_maintenance=True)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}},
    }
    anyio.run(app, scope, receive, send)

    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"3600") in sent[0]["headers"]
    assert sent[1]["body"] == b'{"detail":"Service temporarily unavailable due to maintenance"}'


def test_exempt_handler_receives_a_websocket(make_app: AppFactory) -> None:
    seen: list[object] = []

    def exempt(connection: Any) -> bool:
        seen.append(connection)
        return connection.query_params.get("key") == "let-me-in"

    with TestClient(make_app([ws_plain], enable_maintenance=True, exempt_handler=exempt)) as client:
        assert websocket_result(client, "/ws?key=let-me-in") == "echo:ping"
        assert websocket_result(client, "/ws") == WS_TRY_AGAIN_LATER
    assert len(seen) == 2
    assert all(isinstance(connection, WebSocket) for connection in seen)


# --------------------------------------------------------------------------- built-in exemptions


def test_unknown_path_and_wrong_method_keep_litestar_answers(make_app: AppFactory) -> None:
    with TestClient(make_app([index], enable_maintenance=True)) as client:
        missing = client.get("/does-not-exist")
        assert missing.status_code == 404
        assert missing.json() == {"status_code": 404, "detail": "Not Found"}

        wrong = client.post("/")
        assert wrong.status_code == 405
        assert wrong.json() == {"status_code": 405, "detail": "Method Not Allowed"}

        # A GET handler does not serve HEAD in Litestar: still its 405.
        assert client.head("/").status_code == 405
        assert_maintenance(client.get("/"))


@get("/schema-info")
async def schema_info() -> str:
    return "user"


@get("/schemas")
async def schemas() -> str:
    return "user"


@get("/schema/custom")
async def schema_custom() -> str:
    return "user"


DEFAULT_DOCS_PATHS = [
    "/schema",
    "/schema/openapi.json",
    "/schema/openapi.yaml",
    "/schema/openapi.yml",
    "/schema/swagger",
    "/schema/oauth2-redirect.html",
    "/schema/redoc",
    "/schema/elements",
    "/schema/rapidoc",
]


def test_openapi_endpoints_stay_reachable(make_app: AppFactory) -> None:
    app = make_app([index, schema_info, schemas, schema_custom], enable_maintenance=True)
    with TestClient(app) as client:
        assert statuses(client, *DEFAULT_DOCS_PATHS) == dict.fromkeys(DEFAULT_DOCS_PATHS, 200)
        document = client.get("/schema/openapi.json").json()
        assert "/" in document["paths"]
        # Litestar's own "not found" page for unknown schema paths.
        assert client.get("/schema/nothing-here").status_code == 404
        # The user's handlers at docs-like paths are not exempt.
        for path in ("/schema-info", "/schemas", "/schema/custom"):
            assert_maintenance(client.get(path))


def test_openapi_endpoints_follow_the_configured_path(make_app: AppFactory) -> None:
    @get("/schema")
    async def users_schema() -> str:
        return "the user's /schema"

    app = make_app(
        [index, users_schema],
        enable_maintenance=True,
        openapi_config=OpenAPIConfig(title="Docs", version="1.0.0", path="/api-docs"),
    )
    with TestClient(app) as client:
        docs = ["/api-docs", "/api-docs/openapi.json", "/api-docs/swagger", "/api-docs/redoc"]
        assert statuses(client, *docs) == dict.fromkeys(docs, 200)
        assert_maintenance(client.get("/schema"))  # the user's handler, not exempt
        assert client.get("/schema/openapi.json").status_code == 404


# --------------------------------------------------------------------------- user handlers


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_exempt_handler_gets_a_request_and_runs_only_during_maintenance(
    make_app: AppFactory, kind: str
) -> None:
    seen: list[object] = []

    def decide(request: Any) -> bool:
        seen.append(request)
        return request.headers.get("x-bypass") == "secret"

    def sync_exempt(request: Request[Any, Any, Any]) -> bool:
        return decide(request)

    async def async_exempt(request: Request[Any, Any, Any]) -> bool:
        await anyio.lowlevel.checkpoint()
        return decide(request)

    exempt = sync_exempt if kind == "sync" else async_exempt
    backend = MemoryBackend(False)
    with TestClient(make_app([index], backend=backend, exempt_handler=exempt)) as client:
        assert client.get("/").status_code == 200
        assert seen == []  # not asked while maintenance is off

        anyio.run(backend.set_value, True)
        assert client.get("/", headers={"x-bypass": "secret"}).json() == {"page": "index"}
        assert_maintenance(client.get("/", headers={"x-bypass": "wrong"}))
    assert len(seen) == 2
    assert all(isinstance(request, Request) for request in seen)
    assert all(request.url.path == "/" for request in seen)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_response_handler_returns_a_litestar_response(make_app: AppFactory, kind: str) -> None:
    seen: list[object] = []

    def page(request: Request[Any, Any, Any]) -> Response[Any]:
        seen.append(request)
        return Response(
            {"status": "maintenance", "path": request.url.path},
            status_code=503,
            headers={"Retry-After": "600", "X-Maintenance": "yes"},
        )

    async def async_page(request: Request[Any, Any, Any]) -> Response[Any]:
        await anyio.lowlevel.checkpoint()
        return page(request)

    handler = page if kind == "sync" else async_page
    with TestClient(make_app([index], enable_maintenance=True, response_handler=handler)) as client:
        response = client.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "600"
    assert response.headers["x-maintenance"] == "yes"
    assert response.json() == {"status": "maintenance", "path": "/"}
    assert len(seen) == 1
    assert isinstance(seen[0], Request)


def test_response_handler_custom_status_and_text(make_app: AppFactory) -> None:
    def page(request: Request[Any, Any, Any]) -> Response[str]:
        return Response("Back soon", status_code=200, media_type="text/plain")

    with TestClient(make_app([index], enable_maintenance=True, response_handler=page)) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.text == "Back soon"
    assert response.headers["content-type"].startswith("text/plain")
    assert "retry-after" not in response.headers


def test_response_handler_errors_fall_back_to_the_default(
    make_app: AppFactory, log_records: list[logging.LogRecord]
) -> None:
    def not_a_response(request: Request[Any, Any, Any]) -> Any:
        return {"status": "maintenance"}

    def broken(request: Request[Any, Any, Any]) -> Response[Any]:
        raise RuntimeError("boom")

    for handler in (not_a_response, broken):
        with TestClient(
            make_app([index], enable_maintenance=True, response_handler=handler)
        ) as client:
            assert_maintenance(client.get("/"))
    messages = [r.getMessage() for r in log_records if r.levelno >= logging.ERROR]
    assert any("not a response" in m for m in messages)
    assert any("response_handler raised" in m for m in messages)


def test_exempt_handler_error_means_not_exempt(
    make_app: AppFactory, log_records: list[logging.LogRecord]
) -> None:
    def broken(request: Request[Any, Any, Any]) -> bool:
        raise RuntimeError("boom")

    with TestClient(make_app([index], enable_maintenance=True, exempt_handler=broken)) as client:
        assert_maintenance(client.get("/"))
    assert any("exempt_handler raised" in r.getMessage() for r in log_records)


# --------------------------------------------------------------------------- HEAD


@head("/head-only", sync_to_thread=False)
def head_only() -> None:
    return None


@route("/get-and-head", http_method=["GET", "HEAD"], sync_to_thread=False)
def get_and_head() -> str:
    return "body"


def test_head_gets_headers_without_body(make_app: AppFactory) -> None:
    with TestClient(make_app([head_only, get_and_head], enable_maintenance=True)) as client:
        for path in ("/head-only", "/get-and-head"):
            response = client.head(path)
            assert response.status_code == 503, path
            assert response.headers["retry-after"] == "3600"
            assert response.headers["content-type"] == "application/json"
            assert response.content == b""
        assert_maintenance(client.get("/get-and-head"))


def test_head_with_response_handler(make_app: AppFactory) -> None:
    def page(request: Request[Any, Any, Any]) -> Response[Any]:
        return Response({"status": "maintenance"}, status_code=503, headers={"Retry-After": "60"})

    app = make_app([head_only], enable_maintenance=True, response_handler=page)
    with TestClient(app) as client:
        response = client.head("/head-only")
    # expected: 503, Retry-After: 60, no body; actual: 500
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert response.content == b""


# --------------------------------------------------------------------------- order and CORS


class Recorder(ASGIMiddleware):
    """Records the paths of the requests it sees."""

    def __init__(self, calls: list[str], name: str) -> None:
        self.calls = calls
        self.name = name

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        self.calls.append(f"{self.name}:{scope['path']}")
        await next_app(scope, receive, send)


def test_app_middleware_does_not_run_for_a_maintenance_response(make_app: AppFactory) -> None:
    calls: list[str] = []

    @force_maintenance_mode_off
    @get("/health")
    async def health() -> str:
        return "ok"

    router = Router(
        "/r", route_handlers=[router_off_inherit], middleware=[Recorder(calls, "router")]
    )
    app = make_app(
        [index, health, router], enable_maintenance=True, middleware=[Recorder(calls, "app")]
    )
    with TestClient(app) as client:
        assert_maintenance(client.get("/"))
        assert_maintenance(client.get("/r/inherit"))
        assert calls == []

        assert client.get("/health").status_code == 200
        assert calls == ["app:/health"]


def test_plugin_middleware_goes_first() -> None:
    calls: list[str] = []
    plugin = MaintenancePlugin(enable_maintenance=True)
    app = Litestar([index], middleware=[Recorder(calls, "user")], plugins=[plugin])
    assert app.middleware[0] is plugin.middleware
    assert isinstance(plugin.middleware, MaintenanceModeMiddleware)
    with TestClient(app) as client:
        assert_maintenance(client.get("/"))
    assert calls == []


def test_middleware_listed_after_user_middleware_runs_after_it() -> None:
    """With the middleware (not the plugin) the list order is the user's choice."""
    calls: list[str] = []
    app = Litestar(
        [index],
        middleware=[Recorder(calls, "user"), MaintenanceModeMiddleware(enable_maintenance=True)],
    )
    with TestClient(app) as client:
        assert_maintenance(client.get("/"))
    assert calls == ["user:/"]


def test_cors_headers_on_the_maintenance_response(make_app: AppFactory) -> None:
    origin = "https://frontend.example"
    app = make_app([index], enable_maintenance=True, cors_config=CORSConfig(allow_origins=[origin]))
    with TestClient(app) as client:
        response = client.get("/", headers={"Origin": origin})
        assert_maintenance(response)
        assert response.headers["access-control-allow-origin"] == origin

        # Litestar's CORS middleware wraps the whole app and answers preflights itself.
        preflight = client.options(
            "/", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == origin

        other = client.get("/", headers={"Origin": "https://elsewhere.example"})
        assert other.status_code == 503
        assert "access-control-allow-origin" not in other.headers


def test_default_body_matches_the_core_constant() -> None:
    from maintenance_core import DEFAULT_DETAIL

    assert MAINTENANCE_BODY == {"detail": DEFAULT_DETAIL}


@post("/echo")
async def echo(data: EchoBody) -> dict[str, Any]:
    return data


def test_request_body_reaches_the_handler_untouched(make_app: AppFactory) -> None:
    with TestClient(make_app([echo], enable_maintenance=False)) as client:
        response = client.post("/echo", json={"a": [1, 2, 3]})
    assert response.status_code == 201
    assert response.json() == {"a": [1, 2, 3]}
