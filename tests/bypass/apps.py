"""The same small app built with FastAPI and with Litestar, for the bypass tests.

=========  ============  ======================================
``GET``    ``/items``    ``{"route": "items"}``
``GET``    ``/a/b/c``    ``{"route": "c"}``
``GET``    ``/dir/``     ``{"route": "dir"}`` (trailing slash)
``GET``    ``/café``     ``{"route": "cafe"}`` (percent-encoded)
``POST``   ``/submit``   ``{"route": "submit"}`` (GET is a 405)
``GET``    ``/closed``   forced on
``GET``    ``/open``     forced off
``GET``    ``/files/…``  ``{"route": "files"}`` (any path below)
``WS``     ``/ws``       accepts, sends ``"hello"``, closes
``WS``     ``/ws-closed`` forced on, same as ``/ws``
=========  ============  ======================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import fastapi
import fastapi_maintenance
import httpx
import litestar
import litestar_maintenance

FRAMEWORKS = ("fastapi", "litestar")

ASGIApp = Any


def build_fastapi(**options: Any) -> fastapi.FastAPI:
    app = fastapi.FastAPI()
    app.add_middleware(fastapi_maintenance.MaintenanceModeMiddleware, **options)

    @app.get("/items")
    async def items() -> dict[str, str]:
        return {"route": "items"}

    @app.get("/a/b/c")
    async def nested() -> dict[str, str]:
        return {"route": "c"}

    @app.get("/dir/")
    async def directory() -> dict[str, str]:
        return {"route": "dir"}

    @app.get("/café")
    async def cafe() -> dict[str, str]:
        return {"route": "cafe"}

    @app.post("/submit")
    async def submit() -> dict[str, str]:
        return {"route": "submit"}

    @app.get("/closed")
    @fastapi_maintenance.force_maintenance_mode_on
    async def closed() -> dict[str, str]:
        return {"route": "closed"}

    @app.get("/open")
    @fastapi_maintenance.force_maintenance_mode_off
    async def open_() -> dict[str, str]:
        return {"route": "open"}

    @app.get("/files/{name:path}")
    async def files(name: str) -> dict[str, str]:
        return {"route": "files"}

    @app.websocket("/ws")
    async def ws(websocket: fastapi.WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    @app.websocket("/ws-closed")
    @fastapi_maintenance.force_maintenance_mode_on
    async def ws_closed(websocket: fastapi.WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return app


@litestar.get("/items")
async def ls_items() -> dict[str, str]:
    return {"route": "items"}


@litestar.get("/a/b/c")
async def ls_nested() -> dict[str, str]:
    return {"route": "c"}


@litestar.get("/dir/")
async def ls_directory() -> dict[str, str]:
    return {"route": "dir"}


@litestar.get("/café")
async def ls_cafe() -> dict[str, str]:
    return {"route": "cafe"}


@litestar.post("/submit", status_code=200)
async def ls_submit() -> dict[str, str]:
    return {"route": "submit"}


@litestar.get("/closed")
@litestar_maintenance.force_maintenance_mode_on
async def ls_closed() -> dict[str, str]:
    return {"route": "closed"}


@litestar.get("/open")
@litestar_maintenance.force_maintenance_mode_off
async def ls_open() -> dict[str, str]:
    return {"route": "open"}


@litestar.get("/files/{name:path}")
async def ls_files() -> dict[str, str]:  # Litestar checks the path parameter itself
    return {"route": "files"}


@litestar.websocket("/ws")
async def ls_ws(socket: litestar.WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    await socket.send_text("hello")
    await socket.close()


@litestar.websocket("/ws-closed")
@litestar_maintenance.force_maintenance_mode_on
async def ls_ws_closed(socket: litestar.WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    await socket.send_text("hello")
    await socket.close()


def build_litestar(**options: Any) -> litestar.Litestar:
    return litestar.Litestar(
        [
            ls_items,
            ls_nested,
            ls_directory,
            ls_cafe,
            ls_submit,
            ls_closed,
            ls_open,
            ls_files,
            ls_ws,
            ls_ws_closed,
        ],
        plugins=[litestar_maintenance.MaintenancePlugin(**options)],
    )


BUILDERS: dict[str, Callable[..., ASGIApp]] = {
    "fastapi": build_fastapi,
    "litestar": build_litestar,
}


def build(framework: str, **options: Any) -> ASGIApp:
    """The app of *framework* with ``MaintenanceModeMiddleware(**options)``."""
    return BUILDERS[framework](**options)


@asynccontextmanager
async def client_for(
    app: ASGIApp, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling *app* in process; redirects are not followed."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=base_url, follow_redirects=False
    ) as client:
        yield client
