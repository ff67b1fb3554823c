"""The same app built three ways: with FastAPI, with Litestar, and as a bare ASGI app.

Each is a :class:`maintenance_core.testing.Subject` for the conformance scenarios of
:mod:`maintenance_core.testing`, and serves the standard routes, with the same markers:

=========  ================  ==============================================
``GET``    ``/``             ``{"message": "ok"}``
``GET``    ``/open``         forced off: ``{"message": "open"}`` (``POST`` too)
``GET``    ``/closed``       forced on: ``{"message": "closed"}`` (``POST`` too)
``HEAD``   ``/both``         headers only (``GET /both`` too)
``*``      ``/items``        ``GET HEAD OPTIONS POST PUT PATCH DELETE``:
                             ``{"message": "items"}``
``GET``    ``/payments``     group ``payments``: the tag (FastAPI, Litestar),
                             the marker (bare ASGI, no tags); ``POST`` too
``GET``    ``/search``       group ``search``: the ``maintenance_group`` marker;
                             ``POST`` too
``WS``     ``/ws``           accepts, sends ``"hello"``, closes
``WS``     ``/ws-open``      forced off, same as ``/ws``
``WS``     ``/ws-payments``  group ``payments`` (the marker), same as ``/ws``
=========  ================  ==============================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import fastapi
import fastapi_maintenance
import litestar
import litestar_maintenance
from maintenance_core import (
    BackendRegistry,
    Connection,
    EnvVarBackend,
    GenericAdapter,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MaintenanceResponse,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    maintenance_group,
)
from maintenance_core.testing import Subject
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


# --- FastAPI -------------------------------------------------------------------------------


async def items() -> dict[str, str]:
    return {"message": "items"}


def build_fastapi(**options: Any) -> ASGIApp:
    app = fastapi.FastAPI()
    app.add_middleware(fastapi_maintenance.MaintenanceModeMiddleware, **options)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"message": "ok"}

    @app.post("/open")
    @app.get("/open")
    @fastapi_maintenance.force_maintenance_mode_off
    def open_() -> dict[str, str]:
        return {"message": "open"}

    @app.post("/closed")
    @app.get("/closed")
    @fastapi_maintenance.force_maintenance_mode_on
    async def closed() -> dict[str, str]:
        return {"message": "closed"}

    # One route per method: FastAPI gives each its own OpenAPI operation id.
    for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"):
        app.add_api_route("/items", items, methods=[method])

    @app.post("/payments", tags=["payments"])
    @app.get("/payments", tags=["payments"])
    async def payments() -> dict[str, str]:
        return {"message": "payments"}

    @app.post("/search")
    @app.get("/search")
    @maintenance_group("search")
    async def search() -> dict[str, str]:
        return {"message": "search"}

    @app.head("/both")
    @app.get("/both")
    async def both() -> dict[str, str]:
        return {"message": "both"}

    @app.websocket("/ws")
    async def ws(websocket: fastapi.WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    @app.websocket("/ws-open")
    @fastapi_maintenance.force_maintenance_mode_off
    async def ws_open(websocket: fastapi.WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    @app.websocket("/ws-payments")
    @maintenance_group("payments")
    async def ws_payments(websocket: fastapi.WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return app


FASTAPI = Subject(
    name="fastapi",
    build=build_fastapi,
    registry=fastapi_maintenance.registry,
    env_var="FASTAPI_MAINTENANCE_MODE",
    request_type=StarletteRequest,
    json_response=lambda content, status, headers: JSONResponse(content, status, headers),
    schema_path="/openapi.json",
    read_only=True,
    groups=True,
)


# --- Litestar ------------------------------------------------------------------------------


@litestar.get("/")
async def ls_index() -> dict[str, str]:
    return {"message": "ok"}


@litestar.get("/open", sync_to_thread=False)
@litestar_maintenance.force_maintenance_mode_off
def ls_open() -> dict[str, str]:
    return {"message": "open"}


@litestar.post("/open", sync_to_thread=False, status_code=200)
@litestar_maintenance.force_maintenance_mode_off
def ls_open_post() -> dict[str, str]:
    return {"message": "open"}


@litestar.route("/closed", http_method=["GET", "POST"], opt={"maintenance_mode": "on"})
async def ls_closed() -> dict[str, str]:
    return {"message": "closed"}


@litestar.route(
    "/items",
    http_method=["GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
    status_code=200,
)
async def ls_items() -> dict[str, str]:
    return {"message": "items"}


@litestar.head("/items")
async def ls_items_head() -> None:
    return None


@litestar.route("/payments", http_method=["GET", "POST"], tags=["payments"], status_code=200)
async def ls_payments() -> dict[str, str]:
    return {"message": "payments"}


@litestar.route("/search", http_method=["GET", "POST"], status_code=200)
@maintenance_group("search")
async def ls_search() -> dict[str, str]:
    return {"message": "search"}


@litestar.get("/both")
async def ls_both() -> dict[str, str]:
    return {"message": "both"}


@litestar.head("/both")
async def ls_both_head() -> None:
    return None


@litestar.websocket("/ws")
async def ls_ws(socket: litestar.WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    await socket.send_text("hello")
    await socket.close()


@litestar_maintenance.force_maintenance_mode_off
@litestar.websocket("/ws-open")
async def ls_ws_open(socket: litestar.WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    await socket.send_text("hello")
    await socket.close()


@litestar.websocket("/ws-payments")
@maintenance_group("payments")
async def ls_ws_payments(socket: litestar.WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    await socket.send_text("hello")
    await socket.close()


def build_litestar(**options: Any) -> ASGIApp:
    return litestar.Litestar(
        [
            ls_index,
            ls_open,
            ls_open_post,
            ls_closed,
            ls_items,
            ls_items_head,
            ls_payments,
            ls_search,
            ls_both,
            ls_both_head,
            ls_ws,
            ls_ws_open,
            ls_ws_payments,
        ],
        plugins=[litestar_maintenance.MaintenancePlugin(**options)],
    )


LITESTAR = Subject(
    name="litestar",
    build=build_litestar,
    registry=litestar_maintenance.registry,
    env_var="LITESTAR_MAINTENANCE_MODE",
    request_type=litestar.Request,
    json_response=lambda content, status, headers: litestar.Response(
        content, status_code=status, headers=headers
    ),
    schema_path="/schema/openapi.json",
    read_only=True,
    groups=True,
)


# --- bare ASGI, with only maintenance-core -------------------------------------------------


class BareEnvVarBackend(EnvVarBackend):
    default_var_name: ClassVar[str] = "BARE_MAINTENANCE_MODE"


bare_registry = BackendRegistry("bare_asgi", BareEnvVarBackend)


async def send_json(send: Any, content: dict[str, str], status: int = 200) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def json_handler(message: str) -> ASGIApp:
    async def handler(scope: Any, receive: Any, send: Any) -> None:
        await send_json(send, {"message": message})

    return handler


async def bare_head(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"19")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def bare_ws(scope: Any, receive: Any, send: Any) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "hello"})
    await send({"type": "websocket.close", "code": 1000})


ITEM_METHODS = ("GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


def build_bare(adapter_class: type[GenericAdapter] = GenericAdapter, **options: Any) -> ASGIApp:
    routes: dict[tuple[str, str], ASGIApp] = {
        ("GET", "/"): json_handler("ok"),
        ("GET", "/open"): force_maintenance_mode_off(json_handler("open")),
        ("POST", "/open"): force_maintenance_mode_off(json_handler("open")),
        ("GET", "/closed"): force_maintenance_mode_on(json_handler("closed")),
        ("POST", "/closed"): force_maintenance_mode_on(json_handler("closed")),
        ("GET", "/both"): json_handler("both"),
        ("HEAD", "/both"): bare_head,
        ("HEAD", "/items"): bare_head,
        **{(method, "/items"): json_handler("items") for method in ITEM_METHODS},
        # No OpenAPI tags in a bare app: the marker puts a handler in a group.
        **{
            (method, path): maintenance_group(path[1:])(json_handler(path[1:]))
            for method in ("GET", "POST")
            for path in ("/payments", "/search")
        },
        ("WEBSOCKET", "/ws"): bare_ws,
        ("WEBSOCKET", "/ws-open"): force_maintenance_mode_off(
            lambda scope, receive, send: bare_ws(scope, receive, send)
        ),
        ("WEBSOCKET", "/ws-payments"): maintenance_group("payments")(
            lambda scope, receive, send: bare_ws(scope, receive, send)
        ),
    }
    paths = {path for _, path in routes}

    def find_handler(scope: Any) -> ASGIApp | None:
        return routes.get((scope.get("method", "WEBSOCKET"), scope["path"]))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        handler = find_handler(scope)
        if handler is not None:
            await handler(scope, receive, send)
        elif scope["type"] == "http":
            status = 405 if scope["path"] in paths else 404
            await send_json(send, {"detail": "Not Found" if status == 404 else "no"}, status)
        else:
            await send({"type": "websocket.close", "code": 1000})

    guard = MaintenanceGuard(adapter=adapter_class(find_handler), registry=bare_registry, **options)
    return MaintenanceMiddleware(app, guard)


BARE = Subject(
    name="bare-asgi",
    build=build_bare,
    registry=bare_registry,
    env_var="BARE_MAINTENANCE_MODE",
    request_type=Connection,
    json_response=lambda content, status, headers: MaintenanceResponse(
        status, content, retry_after=int(headers["Retry-After"])
    ),
    schema_path=None,
    read_only=True,
    groups=True,
)

FLAVORS = (FASTAPI, LITESTAR, BARE)
