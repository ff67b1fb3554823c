"""The FastAPI middleware: states, precedence, handlers, and transparency to the app."""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    configure_backend,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    get_maintenance_mode,
    maintenance_mode_off,
    maintenance_mode_on,
    set_maintenance_mode,
)
from fastapi_maintenance.backends import LocalFileBackend, MemoryBackend
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.support.waiting import eventually

from .helpers import client, is_maintenance

pytestmark = pytest.mark.anyio


def make_app(**middleware: object) -> FastAPI:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, **middleware)  # type: ignore[arg-type]

    @app.get("/")
    def root() -> dict[str, str]:
        return {"message": "Hello World"}

    @app.get("/open")
    @force_maintenance_mode_off
    def always_open() -> str:
        return "open"

    @app.get("/closed")
    @force_maintenance_mode_on
    def always_closed() -> str:
        return "closed"

    @app.api_route("/both", methods=["GET", "HEAD"])
    def get_or_head() -> dict[str, str]:
        return {"message": "both"}

    return app


@pytest.mark.parametrize("value", ["1", "yes", "Y", " true ", "T", "on", "ON"])
async def test_env_var_turns_maintenance_on(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", value)
    async with client(make_app()) as c:
        response = await c.get("/")
    assert is_maintenance(response)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))


@pytest.mark.parametrize("value", ["", "0", "no", "n", "false", "F", "off", " OFF "])
async def test_env_var_off_values_let_requests_through(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", value)
    async with client(make_app()) as c:
        assert (await c.get("/")).json() == {"message": "Hello World"}


async def test_garbage_env_value_is_logged_once_and_never_a_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "maybe")
    caplog.set_level(logging.WARNING, logger="fastapi_maintenance")
    async with client(make_app()) as c:
        statuses = [(await c.get("/")).status_code for _ in range(5)]
    assert statuses == [200] * 5
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].name == "fastapi_maintenance.backends"
    assert "FASTAPI_MAINTENANCE_MODE" in warnings[0].getMessage()
    assert "off" in warnings[0].getMessage()


async def test_enable_maintenance_flag_wins_over_the_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with client(make_app(enable_maintenance=True)) as c:
        assert is_maintenance(await c.get("/"))
    monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "1")
    async with client(make_app(enable_maintenance=False)) as c:
        assert (await c.get("/")).status_code == 200


async def test_markers_win_over_the_global_state() -> None:
    async with client(make_app(enable_maintenance=True)) as c:
        assert (await c.get("/open")).json() == "open"
        assert is_maintenance(await c.get("/closed"))
    async with client(make_app(enable_maintenance=False)) as c:
        assert is_maintenance(await c.get("/closed"))
        assert (await c.get("/")).status_code == 200


async def test_head_gets_the_maintenance_headers_without_a_body() -> None:
    async with client(make_app(enable_maintenance=True)) as c:
        get = await c.get("/both")
        head = await c.head("/both")
    assert head.status_code == 503
    assert head.content == b""
    assert head.headers["retry-after"] == "3600"
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_precedence_override_context_beats_the_enable_flag() -> None:
    backend = MemoryBackend(False)
    app = make_app(enable_maintenance=False, backend=backend)
    async with client(app) as c:
        async with maintenance_mode_on(backend=backend):
            assert is_maintenance(await c.get("/"))
            assert (await c.get("/open")).status_code == 200
        assert (await c.get("/")).status_code == 200

    app = make_app(enable_maintenance=True, backend=backend)
    async with client(app) as c:
        async with maintenance_mode_off(backend=backend):
            assert (await c.get("/")).status_code == 200
            assert is_maintenance(await c.get("/closed"))
        assert is_maintenance(await c.get("/"))


async def test_exempt_handler_beats_overrides_but_not_forced_on() -> None:
    calls: list[str] = []

    async def is_exempt(request: Request) -> bool:
        calls.append(request.url.path)
        return request.headers.get("x-team") == "yes"

    backend = MemoryBackend(False)
    app = make_app(exempt_handler=is_exempt, backend=backend)
    async with client(app) as c:
        assert (await c.get("/", headers={"x-team": "yes"})).status_code == 200
        assert calls == [], "the exemption handler runs only while maintenance is on"
        async with maintenance_mode_on(backend=backend):
            assert (await c.get("/", headers={"x-team": "yes"})).status_code == 200
            assert is_maintenance(await c.get("/"))
            assert is_maintenance(await c.get("/closed", headers={"x-team": "yes"}))
    assert calls == ["/", "/"]


async def test_sync_exempt_handler_and_failing_exempt_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def by_user_agent(request: Request) -> bool:
        return request.headers.get("user-agent", "").startswith("Monitoring")

    async with client(make_app(enable_maintenance=True, exempt_handler=by_user_agent)) as c:
        assert (await c.get("/", headers={"user-agent": "Monitoring/1.0"})).status_code == 200
        assert is_maintenance(await c.get("/", headers={"user-agent": "curl"}))

    def broken(request: Request) -> bool:
        raise RuntimeError("boom")

    async with client(make_app(enable_maintenance=True, exempt_handler=broken)) as c:
        assert is_maintenance(await c.get("/"))
    assert any("exempt_handler raised" in r.getMessage() for r in caplog.records)


async def test_custom_response_handlers_sync_and_async() -> None:
    async def async_handler(request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "maintenance", "path": request.url.path},
            status_code=503,
            headers={"Retry-After": "1800"},
        )

    def sync_handler(request: Request) -> HTMLResponse:
        return HTMLResponse("<h1>Back soon</h1>", status_code=503)

    async with client(make_app(enable_maintenance=True, response_handler=async_handler)) as c:
        response = await c.get("/")
        assert response.status_code == 503
        assert response.json() == {"status": "maintenance", "path": "/"}
        assert response.headers["retry-after"] == "1800"
        head = await c.head("/both")
        assert head.status_code == 503
        assert head.content == b""
        assert head.headers["retry-after"] == "1800"

    async with client(make_app(enable_maintenance=True, response_handler=sync_handler)) as c:
        response = await c.get("/")
        assert response.status_code == 503
        assert response.text == "<h1>Back soon</h1>"


@pytest.mark.parametrize("outcome", ["raises", "not-a-response"])
async def test_broken_response_handler_falls_back_to_the_default_503(
    outcome: str, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: Request) -> object:
        if outcome == "raises":
            raise RuntimeError("template missing")
        return {"a": "dict"}

    app = make_app(enable_maintenance=True, response_handler=handler)
    async with client(app) as c:
        response = await c.get("/")
    assert is_maintenance(response)
    assert any("response_handler" in r.getMessage() for r in caplog.records)


def test_constructor_rejects_bad_arguments_with_a_clear_message() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="exempt_handler must be a function"):
        MaintenanceModeMiddleware(app, exempt_handler="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="enable_maintenance must be True, False or None"):
        MaintenanceModeMiddleware(app, enable_maintenance="on")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="backend must be a StateBackend"):
        MaintenanceModeMiddleware(app, backend="file")  # type: ignore[arg-type]


async def test_file_backend_changes_from_another_writer_are_seen_within_the_check_interval(
    tmp_path: Path,
) -> None:
    state = tmp_path / "maintenance_mode.txt"
    app = make_app(backend=LocalFileBackend(file_path=state))  # checks every 0.5 s
    async with client(app) as c:
        assert (await c.get("/")).status_code == 200
        state.write_text("1")
        on = await eventually(lambda: c.get("/"), lambda r: r.status_code != 200, timeout=2.0)
        assert is_maintenance(on)
        state.write_text("0")
        off = await eventually(lambda: c.get("/"), lambda r: r.status_code != 503, timeout=2.0)
        assert off.status_code == 200


async def test_file_backend_with_zero_check_interval_changes_the_next_request(
    tmp_path: Path,
) -> None:
    state = tmp_path / "maintenance_mode.txt"
    app = make_app(backend=LocalFileBackend(file_path=state, check_interval=0))
    async with client(app) as c:
        assert (await c.get("/")).status_code == 200
        state.write_text("1")
        assert is_maintenance(await c.get("/"))
        state.write_text("0\n")
        assert (await c.get("/")).status_code == 200


async def test_streaming_background_tasks_and_context_variables_are_untouched() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    seen: list[str] = []

    def outer(app: ASGIApp) -> ASGIApp:
        async def set_request_id(scope: Scope, receive: Receive, send: Send) -> None:
            token = request_id.set("req-42")
            try:
                await app(scope, receive, send)
            finally:
                request_id.reset(token)

        return set_request_id

    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, enable_maintenance=False)
    app.add_middleware(outer)  # type: ignore[arg-type]

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            seen.append(f"chunk-{i}:{request_id.get('missing')}")
            yield f"{i};".encode()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/sync")
    def sync_endpoint(tasks: BackgroundTasks) -> str:
        tasks.add_task(lambda: seen.append(f"background:{request_id.get('missing')}"))
        return request_id.get("missing")

    async with client(app) as c:
        async with c.stream("GET", "/stream") as response:
            received = [chunk async for chunk in response.aiter_bytes()]
        assert b"".join(received) == b"0;1;2;"
        assert (await c.get("/sync")).json() == "req-42"
    assert seen == ["chunk-0:req-42", "chunk-1:req-42", "chunk-2:req-42", "background:req-42"]


async def test_a_request_already_inside_a_handler_completes_when_maintenance_starts() -> None:
    backend = MemoryBackend(False)
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    entered, release = anyio.Event(), anyio.Event()

    @app.get("/slow")
    async def slow() -> str:
        entered.set()
        await release.wait()
        return "done"

    async with client(app) as c:
        results: list[int] = []

        async def call() -> None:
            results.append((await c.get("/slow")).status_code)

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await entered.wait()
            await backend.set_value(True)
            assert is_maintenance(await c.get("/slow"))
            release.set()
    assert results == [200]


async def test_module_functions_use_the_middleware_backend_of_each_app() -> None:
    backend_a, backend_b = MemoryBackend(False), MemoryBackend(True)

    def app_with(backend: MemoryBackend) -> FastAPI:
        app = FastAPI()
        app.add_middleware(MaintenanceModeMiddleware, backend=backend)

        @app.get("/state")
        @force_maintenance_mode_off
        async def state() -> dict[str, bool]:
            return {"maintenance": await get_maintenance_mode()}

        return app

    app_a, app_b = app_with(backend_a), app_with(backend_b)
    async with client(app_a) as ca, client(app_b) as cb:
        assert (await ca.get("/state")).json() == {"maintenance": False}
        assert (await cb.get("/state")).json() == {"maintenance": True}
        assert (await ca.get("/state")).json() == {"maintenance": False}


async def test_lifespan_passes_through_and_sees_the_middleware_backend(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await set_maintenance_mode(True)
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)

    @app.get("/")
    def root() -> str:
        return "hi"

    with TestClient(app) as c:
        assert events == ["startup"]
        assert c.get("/").status_code == 503
    assert events == ["startup", "shutdown"]
    assert (tmp_path / "state.txt").read_text() == "1"


async def test_configured_backend_is_used_by_middleware_and_module_functions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    configure_backend("file", file_path="maintenance_mode.txt")
    app = make_app()
    async with client(app) as c:
        assert (await c.get("/")).status_code == 200
        await set_maintenance_mode(True)
        assert (tmp_path / "maintenance_mode.txt").read_text() == "1"
        assert is_maintenance(await c.get("/"))
        assert await get_maintenance_mode() is True


def test_configure_backend_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"'consul'.*choose one of 'env', 'file', 'redis'"):
        configure_backend("consul")


async def test_override_on_the_default_env_backend_is_in_memory(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    caplog.set_level(logging.WARNING)
    async with client(app) as c:
        assert (await c.get("/")).status_code == 200
        async with maintenance_mode_on():
            assert await get_maintenance_mode() is True
            assert is_maintenance(await c.get("/"))
            async with maintenance_mode_on():
                assert is_maintenance(await c.get("/"))
            assert is_maintenance(await c.get("/"))
        assert (await c.get("/")).status_code == 200
    assert "FASTAPI_MAINTENANCE_MODE" not in os.environ
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_public_api_is_exactly_the_documented_one() -> None:
    import fastapi_maintenance
    import fastapi_maintenance.backends

    assert sorted(fastapi_maintenance.__all__) == sorted(
        [
            "MaintenanceConfig",
            "MaintenanceModeMiddleware",
            "configure_backend",
            "force_maintenance_mode_off",
            "force_maintenance_mode_on",
            "get_maintenance_mode",
            "maintenance_mode_off",
            "maintenance_group",
            "maintenance_mode_on",
            "set_maintenance_mode",
        ]
    )
    for name in ("BaseStateBackend", "EnvVarBackend", "LocalFileBackend"):
        assert name in fastapi_maintenance.backends.__all__
    assert fastapi_maintenance.backends.EnvVarBackend().var_name == "FASTAPI_MAINTENANCE_MODE"
