"""Shared pieces of the maintenance-window tests: times, apps, clients, the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import httpx
from fastapi import FastAPI, WebSocket
from fastapi_maintenance import MaintenanceModeMiddleware as FastAPIMiddleware
from litestar import Litestar, get
from litestar import WebSocket as LitestarWebSocket
from litestar import websocket as litestar_websocket
from litestar_maintenance import MaintenanceModeMiddleware as LitestarMiddleware
from maintenance_core.backends import BaseStateBackend

Flavor = Literal["fastapi", "litestar"]
FLAVORS: tuple[Flavor, ...] = ("fastapi", "litestar")

ENV_VARS: dict[Flavor, str] = {
    "fastapi": "FASTAPI_MAINTENANCE_MODE",
    "litestar": "LITESTAR_MAINTENANCE_MODE",
}
MAINTENANCE_JSON = b'{"detail":"Service temporarily unavailable due to maintenance"}'
WS_TRY_AGAIN_LATER = 1013


# --- times ------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def whole_seconds_from_now(seconds: float) -> datetime:
    """An aware UTC datetime *seconds* from now, without microseconds (rounded up)."""
    moment = utc_now() + timedelta(seconds=seconds)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def seconds_until(moment: datetime) -> float:
    return moment.timestamp() - time.time()


def assert_retry_after_counts_down_to(headers: httpx.Headers | Any, end: datetime) -> int:
    """``Retry-After`` is the whole number of seconds left until *end* (within 2 s)."""
    value = headers["retry-after"]
    assert value.isdigit(), f"Retry-After {value!r} is not a whole number of seconds"
    retry_after = int(value)
    left = seconds_until(end)
    assert abs(retry_after - left) <= 2, f"Retry-After {retry_after} but {left:.2f}s are left"
    return retry_after


def window_json(on: bool = True, start: datetime | None = None, end: datetime | None = None) -> str:
    data: dict[str, Any] = {"on": on}
    if start is not None:
        data["start"] = start.isoformat()
    if end is not None:
        data["end"] = end.isoformat()
    return json.dumps(data)


# --- apps -------------------------------------------------------------------------------


def fastapi_app(
    backend: BaseStateBackend | None = None,
    response_handler: Callable[[Any], Any] | None = None,
) -> FastAPI:
    app = FastAPI()
    app.add_middleware(FastAPIMiddleware, backend=backend, response_handler=response_handler)

    @app.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    @app.websocket("/ws")
    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hello")
        await ws.close()

    return app


def litestar_app(
    backend: BaseStateBackend | None = None,
    response_handler: Callable[[Any], Any] | None = None,
) -> Litestar:
    @get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @litestar_websocket("/ws")
    async def ws_handler(socket: LitestarWebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.send_text("hello")
        await socket.close()

    return Litestar(
        route_handlers=[index, ws_handler],
        middleware=[LitestarMiddleware(backend=backend, response_handler=response_handler)],
    )


def build_app(
    flavor: Flavor,
    backend: BaseStateBackend | None = None,
    response_handler: Callable[[Any], Any] | None = None,
) -> Any:
    factory = fastapi_app if flavor == "fastapi" else litestar_app
    return factory(backend, response_handler)


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def websocket_handshake(app: Any, *, denial_extension: bool = True) -> list[dict[str, Any]]:
    """Run one websocket handshake for ``/ws`` straight through the ASGI app; return
    what the app sent."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "websocket.connect"}
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}} if denial_extension else {},
    }
    await app(scope, receive, send)
    return sent


# --- the command line -------------------------------------------------------------------

SCRIPTS: dict[Flavor, Path] = {
    flavor: Path(sys.executable).parent / f"{flavor}-maintenance" for flavor in FLAVORS
}
_STYLE_VARS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE", "COLUMNS")


def cli_env(**extra: str) -> dict[str, str]:
    """A clean environment: no colours, no maintenance variables unless given."""
    skip = {*_STYLE_VARS, *ENV_VARS.values()}
    env = {name: value for name, value in os.environ.items() if name not in skip}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run_cli(
    flavor: Flavor, *args: str | os.PathLike[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = SCRIPTS[flavor]
    assert script.exists(), f"console script not installed at {script}"
    return subprocess.run(
        [os.fspath(script), *(os.fspath(arg) for arg in args)],
        env=cli_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The command failed with exit code 1 and exactly one ``Error: ...`` line."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def cli_output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The command succeeded quietly on stderr; its stdout lines."""
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout.splitlines()


def when(moment: datetime) -> str:
    """A moment as the command line prints it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
