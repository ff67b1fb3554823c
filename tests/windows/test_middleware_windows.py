"""The middleware of both adapters during, before and after a window: status and Retry-After."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware as FastAPIMiddleware
from litestar import Litestar, get, head
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient as LitestarTestClient
from litestar_maintenance import MaintenanceModeMiddleware as LitestarMiddleware
from maintenance_core import LocalFileBackend, MemoryBackend
from maintenance_core.state import MaintenanceState
from starlette.testclient import TestClient as StarletteTestClient

from tests.support.starlette_compat import HAS_DENIAL_RESPONSE, WebSocketDenialResponse
from tests.support.waiting import eventually

from ._helpers import (
    MAINTENANCE_JSON,
    WS_TRY_AGAIN_LATER,
    Flavor,
    assert_retry_after_counts_down_to,
    build_app,
    client,
    fastapi_app,
    litestar_app,
    utc_now,
    websocket_handshake,
)

pytestmark = pytest.mark.anyio


async def memory_with(state: MaintenanceState) -> MemoryBackend:
    backend = MemoryBackend()
    await backend.set_state(state)
    return backend


async def test_open_window_sends_the_seconds_left_as_retry_after(flavor: Flavor) -> None:
    end = utc_now() + timedelta(minutes=90)
    backend = await memory_with(MaintenanceState.scheduled(utc_now(), end))

    async with client(build_app(flavor, backend)) as c:
        response = await c.get("/")

    assert response.status_code == 503
    assert response.content == MAINTENANCE_JSON
    assert response.headers["content-type"] == "application/json"
    assert_retry_after_counts_down_to(response.headers, end)
    assert 5398 <= int(response.headers["retry-after"]) <= 5400


async def test_retry_after_follows_a_changed_window(flavor: Flavor) -> None:
    backend = await memory_with(MaintenanceState.scheduled(None, utc_now() + timedelta(hours=5)))
    async with client(build_app(flavor, backend)) as c:
        first = await c.get("/")
        end = utc_now() + timedelta(minutes=10)
        await backend.set_state(MaintenanceState.scheduled(None, end))
        second = await c.get("/")
    assert abs(int(first.headers["retry-after"]) - 5 * 3600) <= 2
    assert_retry_after_counts_down_to(second.headers, end)


async def test_head_request_gets_the_countdown_without_a_body(flavor: Flavor) -> None:
    end = utc_now() + timedelta(minutes=20)
    backend = await memory_with(MaintenanceState.scheduled(None, end))
    app: Any
    if flavor == "fastapi":
        api = FastAPI()
        api.add_middleware(FastAPIMiddleware, backend=backend)

        @api.api_route("/", methods=["GET", "HEAD"])
        def index() -> dict[str, bool]:
            return {"ok": True}

        app = api
    else:

        @get("/", sync_to_thread=False)
        def index_get() -> dict[str, bool]:
            return {"ok": True}

        @head("/", sync_to_thread=False)
        def index_head() -> None:
            return None

        app = Litestar([index_get, index_head], middleware=[LitestarMiddleware(backend=backend)])

    async with client(app) as c:
        response = await c.head("/")
    assert response.status_code == 503
    assert response.content == b""
    assert_retry_after_counts_down_to(response.headers, end)


async def test_window_without_end_sends_the_default_retry_after(flavor: Flavor) -> None:
    backend = await memory_with(MaintenanceState.scheduled(utc_now() - timedelta(minutes=5)))
    async with client(build_app(flavor, backend)) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3600"
    assert response.content == MAINTENANCE_JSON


async def test_plain_on_sends_the_default_retry_after(flavor: Flavor) -> None:
    async with client(build_app(flavor, MemoryBackend(True))) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3600"


async def test_enable_maintenance_ignores_the_stored_window(flavor: Flavor) -> None:
    backend = await memory_with(MaintenanceState.scheduled(None, utc_now() + timedelta(hours=2)))
    app: Any
    if flavor == "fastapi":
        api = FastAPI()
        api.add_middleware(FastAPIMiddleware, backend=backend, enable_maintenance=True)

        @api.get("/")
        def index() -> dict[str, bool]:
            return {"ok": True}

        app = api
    else:

        @get("/", sync_to_thread=False)
        def index_get() -> dict[str, bool]:
            return {"ok": True}

        app = Litestar(
            [index_get], middleware=[LitestarMiddleware(backend=backend, enable_maintenance=True)]
        )
    async with client(app) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3600"


async def test_future_window_lets_requests_through(flavor: Flavor) -> None:
    start = utc_now() + timedelta(hours=1)
    backend = await memory_with(MaintenanceState.scheduled(start, start + timedelta(hours=1)))
    async with client(build_app(flavor, backend)) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "retry-after" not in response.headers


async def test_ended_window_lets_requests_through(flavor: Flavor, tmp_path: Path) -> None:
    # An ended window can only be found in storage (set_maintenance_mode refuses it).
    now = utc_now()
    path = tmp_path / "state.txt"
    path.write_text(
        MaintenanceState(True, now - timedelta(hours=2), now - timedelta(hours=1)).to_text(),
        encoding="utf-8",
    )
    async with client(build_app(flavor, LocalFileBackend(path))) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


async def test_window_opens_then_counts_down_then_closes(flavor: Flavor, tmp_path: Path) -> None:
    """Before start: 200. Inside: 503 with Retry-After counting down. After end: 200."""
    start = utc_now() + timedelta(seconds=1.2)
    end = start + timedelta(seconds=2.5)
    backend = LocalFileBackend(tmp_path / "state.txt")
    await backend.set_state(MaintenanceState.scheduled(start, end))
    # (sent, answered, status, Retry-After) for every probe.
    seen: list[tuple[float, float, int, int | None]] = []

    async with client(build_app(flavor, backend)) as c:

        async def probe() -> httpx.Response:
            sent = time.time()
            response = await c.get("/")
            answered = time.time()
            retry = response.headers.get("retry-after")
            seen.append(
                (sent, answered, response.status_code, None if retry is None else int(retry))
            )
            return response

        first = await probe()
        assert first.status_code == 200, "the window opened before the first request"
        await eventually(probe, lambda r: r.status_code == 503, timeout=4)
        last = await eventually(probe, lambda r: r.status_code == 200, timeout=5)

    assert last.json() == {"ok": True}
    assert seen[-1][1] >= end.timestamp()
    statuses = [status for _, _, status, _ in seen]
    # 200s, then 503s, then 200s: no flapping.
    first_503 = statuses.index(503)
    last_503 = len(statuses) - 1 - statuses[::-1].index(503)
    assert set(statuses[:first_503]) == {200}
    assert set(statuses[first_503 : last_503 + 1]) == {503}
    assert set(statuses[last_503 + 1 :]) == {200}
    countdown = [retry for _, _, status, retry in seen if status == 503]
    assert all(retry is not None for retry in countdown)
    assert countdown == sorted(countdown, reverse=True, key=lambda r: r or 0)
    # Each Retry-After is the whole seconds left when the request was decided, so it
    # lies between what was left when the probe was answered and when it was sent.
    # That bound is exact whatever the machine's pace, and it is what makes the
    # header count down: a probe a second later must carry a smaller number.
    end_ts = end.timestamp()
    for sent, answered, status, retry in seen:
        if status == 503:
            assert retry is not None
            low = max(1, math.ceil(end_ts - answered))
            high = max(1, math.ceil(end_ts - sent))
            assert low <= retry <= high, (retry, end_ts - sent, end_ts - answered)


# --- websockets -------------------------------------------------------------------------


async def test_websocket_denial_carries_the_countdown(flavor: Flavor) -> None:
    end = utc_now() + timedelta(minutes=45)
    backend = await memory_with(MaintenanceState.scheduled(None, end))

    sent = await websocket_handshake(build_app(flavor, backend))

    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 503
    headers = httpx.Headers([(k.decode(), v.decode()) for k, v in sent[0]["headers"]])
    assert_retry_after_counts_down_to(headers, end)
    assert sent[1]["body"] == MAINTENANCE_JSON


async def test_websocket_denial_without_end_sends_the_default(flavor: Flavor) -> None:
    backend = await memory_with(MaintenanceState.scheduled(utc_now() - timedelta(minutes=1)))
    sent = await websocket_handshake(build_app(flavor, backend))
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"3600") in sent[0]["headers"]


async def test_websocket_without_denial_extension_is_closed_1013(flavor: Flavor) -> None:
    backend = await memory_with(MaintenanceState.scheduled(None, utc_now() + timedelta(hours=1)))
    sent = await websocket_handshake(build_app(flavor, backend), denial_extension=False)
    assert sent == [{"type": "websocket.close", "code": WS_TRY_AGAIN_LATER, "reason": ""}]


async def test_websocket_passes_before_the_window(flavor: Flavor) -> None:
    start = utc_now() + timedelta(hours=1)
    backend = await memory_with(MaintenanceState.scheduled(start, start + timedelta(hours=1)))
    sent = await websocket_handshake(build_app(flavor, backend))
    assert sent[0]["type"] == "websocket.accept"
    assert {"type": "websocket.send", "text": "hello"} in [
        {k: v for k, v in m.items() if k in ("type", "text")} for m in sent
    ]


# --- the frameworks' own test clients ----------------------------------------------------


@pytest.mark.skipif(
    not HAS_DENIAL_RESPONSE, reason="this Starlette's TestClient has no websocket denial responses"
)
def test_starlette_test_client_sees_the_countdown_on_http_and_websocket() -> None:
    end = utc_now() + timedelta(minutes=30)
    backend = MemoryBackend()
    anyio.run(backend.set_state, MaintenanceState.scheduled(None, end))

    with StarletteTestClient(fastapi_app(backend)) as tc:
        response = tc.get("/")
        assert response.status_code == 503
        assert_retry_after_counts_down_to(response.headers, end)

        with pytest.raises(WebSocketDenialResponse) as denied, tc.websocket_connect("/ws"):
            pass
        assert denied.value.status_code == 503
        assert_retry_after_counts_down_to(denied.value.headers, end)

        anyio.run(backend.set_state, MaintenanceState(False))
        with tc.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "hello"


def test_litestar_test_client_sees_the_countdown() -> None:
    end = utc_now() + timedelta(minutes=30)
    backend = MemoryBackend()
    anyio.run(backend.set_state, MaintenanceState.scheduled(None, end))

    with LitestarTestClient(litestar_app(backend)) as tc:
        response = tc.get("/")
        assert response.status_code == 503
        assert response.content == MAINTENANCE_JSON
        assert_retry_after_counts_down_to(response.headers, end)

        # Litestar's test client has no websocket denial extension: close code 1013.
        with pytest.raises(WebSocketDisconnect) as closed, tc.websocket_connect("/ws"):
            pass
        assert closed.value.code == WS_TRY_AGAIN_LATER

        anyio.run(backend.set_state, MaintenanceState(False))
        assert tc.get("/").status_code == 200
