"""Building Litestar apps for the tests, and checking their answers."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, Protocol

import anyio
import httpx
from litestar import Litestar, WebSocket
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.types import ControllerRouterHandler, Middleware
from litestar_maintenance import MaintenanceModeMiddleware, MaintenancePlugin
from litestar_maintenance.backends import BaseStateBackend
from litestar_maintenance.middleware import ExemptHandler, ResponseHandler

ENV_VAR = "LITESTAR_MAINTENANCE_MODE"
MAINTENANCE_BODY = {"detail": "Service temporarily unavailable due to maintenance"}
WS_TRY_AGAIN_LATER = 1013

Mode = Literal["plugin", "middleware"]


def build_app(
    mode: Mode,
    route_handlers: Sequence[ControllerRouterHandler],
    *,
    enable_maintenance: bool | None = None,
    backend: BaseStateBackend | None = None,
    exempt_handler: ExemptHandler | None = None,
    response_handler: ResponseHandler | None = None,
    middleware: Sequence[Middleware] = (),
    **litestar_kwargs: Any,
) -> Litestar:
    """A Litestar app guarded by ``MaintenancePlugin`` (``mode="plugin"``) or by
    ``MaintenanceModeMiddleware`` listed first (``mode="middleware"``).

    *middleware* is the app's own middleware: with the plugin it is passed to
    ``Litestar(middleware=...)`` and the plugin must put maintenance in front of it.
    """
    options: dict[str, Any] = {
        "enable_maintenance": enable_maintenance,
        "backend": backend,
        "exempt_handler": exempt_handler,
        "response_handler": response_handler,
    }
    if mode == "plugin":
        return Litestar(
            route_handlers,
            middleware=list(middleware),
            plugins=[MaintenancePlugin(**options)],
            **litestar_kwargs,
        )
    return Litestar(
        route_handlers,
        middleware=[MaintenanceModeMiddleware(**options), *middleware],
        **litestar_kwargs,
    )


class AppFactory(Protocol):
    """The ``make_app`` fixture: :func:`build_app` with the mode chosen by the fixture."""

    def __call__(
        self,
        route_handlers: Sequence[ControllerRouterHandler],
        *,
        enable_maintenance: bool | None = None,
        backend: BaseStateBackend | None = None,
        exempt_handler: ExemptHandler | None = None,
        response_handler: ResponseHandler | None = None,
        middleware: Sequence[Middleware] = (),
        **litestar_kwargs: Any,
    ) -> Litestar: ...


def assert_maintenance(response: httpx.Response) -> None:
    """The default maintenance response."""
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "3600"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == MAINTENANCE_BODY


def statuses(client: TestClient[Litestar], *paths: str) -> dict[str, int]:
    """``GET`` each path: ``{path: status}``, to compare a whole app at once."""
    return {path: client.get(path).status_code for path in paths}


async def echo_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """A websocket handler body: accept, echo one text message, close."""
    await socket.accept()
    text = await socket.receive_text()
    await socket.send_text(f"echo:{text}")
    await socket.close()


def websocket_result(client: TestClient[Litestar], path: str) -> str | int:
    """Connect, send ``ping``: the reply when the connection is accepted, else the close code."""
    try:
        with client.websocket_connect(path) as ws:
            ws.send_text("ping")
            return ws.receive_text()
    except WebSocketDisconnect as exc:
        return exc.code


async def _new_event() -> anyio.Event:
    return anyio.Event()


async def _wait(event: anyio.Event, seconds: float) -> None:
    with anyio.fail_after(seconds):
        await event.wait()


async def _set(event: anyio.Event) -> None:
    event.set()


class Gate:
    """Hold a handler inside a block until the test lets it go, deterministically.

    Litestar's test clients run the app in an event loop of their own (a blocking
    portal in another thread) and ``AsyncTestClient`` blocks its caller's loop for
    the length of each request, so concurrent requests come from threads here and
    the two anyio events live in the client's loop: the handler sets ``entered``
    and awaits ``released``; the test waits for and sets them through the portal.
    """

    def __init__(self) -> None:
        self.entered: anyio.Event
        self.released: anyio.Event
        self._client: TestClient[Litestar] | None = None

    def bind(self, client: TestClient[Litestar]) -> None:
        """Create the events in *client*'s event loop (the client must be entered)."""
        self._client = client
        self.entered = client.blocking_portal.call(_new_event)
        self.released = client.blocking_portal.call(_new_event)

    def wait_entered(self, timeout: float = 10) -> None:
        assert self._client is not None
        self._client.blocking_portal.call(_wait, self.entered, timeout)

    def release(self) -> None:
        assert self._client is not None
        self._client.blocking_portal.call(_set, self.released)


def request_in_thread(
    pool: ThreadPoolExecutor, client: TestClient[Litestar], method: str, path: str
) -> Future[httpx.Response]:
    """Send a request from a worker thread, so the test can go on while it is held."""
    return pool.submit(client.request, method, path)
