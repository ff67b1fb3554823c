"""``Retry-After``: configurable in code, storable with the state, and which one wins.

Precedence, strongest first: a window's countdown to its end, the seconds stored
with the state (``on --retry``), ``MaintenanceConfig(retry_after=...)``, the
response's own (3600). The same value goes out on the HTTP 503 (and ``HEAD``),
on a websocket denial and to a ``response_handler`` such as the page.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.responses import maintenance_page
from maintenance_core import (
    ConfigurationError,
    GenericAdapter,
    InvalidStateValueError,
    LocalFileBackend,
    MaintenanceConfig,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MaintenanceResponse,
    MemoryBackend,
    StateBackend,
    force_maintenance_mode_on,
)
from maintenance_core.state import MaintenanceState

from tests.windows._helpers import (
    cli_error_line,
    cli_output_lines,
    client,
    run_cli,
    utc_now,
    websocket_handshake,
)

pytestmark = pytest.mark.anyio

CHROME = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@force_maintenance_mode_on
async def forced(scope: Any, receive: Any, send: Any) -> None:
    await ok(scope, receive, send)


def bare_app(backend: StateBackend, **options: Any) -> MaintenanceMiddleware:
    routes = {"/forced": forced}
    adapter = GenericAdapter(lambda scope: routes.get(scope["path"], ok))
    return MaintenanceMiddleware(ok, MaintenanceGuard(adapter=adapter, backend=backend, **options))


async def memory_with(state: MaintenanceState) -> MemoryBackend:
    backend = MemoryBackend()
    await backend.set_state(state)
    return backend


def denial_retry_after(sent: list[dict[str, Any]]) -> str:
    assert sent[0]["type"] == "websocket.http.response.start", sent
    headers = dict(sent[0]["headers"])
    value: bytes = headers[b"retry-after"]
    return value.decode()


# --- configured in code ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -5, 1.5, "600", True, False, 600.0])
def test_a_retry_after_that_is_not_positive_whole_seconds_is_refused(value: object) -> None:
    with pytest.raises(ConfigurationError, match="retry_after must be a positive whole number"):
        MaintenanceConfig(retry_after=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retry_after must be a positive whole number"):
        MaintenanceState(True, retry_after=value)  # type: ignore[arg-type]


def test_retry_after_cannot_contradict_the_response() -> None:
    with pytest.raises(ConfigurationError, match="sends no Retry-After"):
        MaintenanceConfig(retry_after=600, response=MaintenanceResponse(retry_after=None))
    with pytest.raises(ConfigurationError, match="give it once"):
        MaintenanceConfig(retry_after=600, response=MaintenanceResponse(retry_after=60))
    same = MaintenanceConfig(retry_after=60, response=MaintenanceResponse(retry_after=60))
    assert same.configured_retry_after == 60
    assert MaintenanceConfig().configured_retry_after == 3600
    assert MaintenanceConfig(retry_after=90).configured_retry_after == 90


async def test_configured_retry_after_on_http_head_and_websocket() -> None:
    app = bare_app(MemoryBackend(True), retry_after=600)
    async with client(app) as c:
        get = await c.get("/")
        head = await c.head("/")
    assert get.status_code == head.status_code == 503
    assert get.headers["retry-after"] == head.headers["retry-after"] == "600"
    assert denial_retry_after(await websocket_handshake(app)) == "600"


async def test_configured_retry_after_through_the_fastapi_middleware_and_page() -> None:
    app = FastAPI()
    app.add_middleware(
        MaintenanceModeMiddleware,
        config=MaintenanceConfig(
            backend=MemoryBackend(True),
            retry_after=900,
            response_handler=maintenance_page(template="<p>Back in $retry_after s</p>"),
        ),
    )

    @app.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    async with client(app) as c:
        page = await c.get("/", headers=CHROME)
        api = await c.get("/")
    assert page.status_code == api.status_code == 503
    assert page.headers["retry-after"] == api.headers["retry-after"] == "900"
    assert page.text == "<p>Back in 900 s</p>"


# --- stored with the state ------------------------------------------------------------------


def test_the_stored_form_keeps_retry_after_and_plain_states_stay_plain() -> None:
    state = MaintenanceState(True, retry_after=600)
    assert json.loads(state.to_text()) == {"on": True, "retry_after": 600}
    assert MaintenanceState.from_text(state.to_text()) == state
    assert MaintenanceState(True).to_text() == "1"
    assert MaintenanceState(False).to_text() == "0"
    assert MaintenanceState.from_text("1").retry_after is None
    assert MaintenanceState(True).with_retry_after(None) == MaintenanceState(True)
    assert MaintenanceState(True).with_retry_after(60).retry_after == 60


def test_a_reader_ignores_keys_it_does_not_know() -> None:
    # What lets a 0.1.0 reader (whose from_text ignores unknown keys) read a state
    # stored with retry_after: the same tolerance, kept for the next key.
    state = MaintenanceState.from_text('{"on": true, "retry_after": 600, "later": [1, 2]}')
    assert state == MaintenanceState(True, retry_after=600)


@pytest.mark.parametrize("stored", ['"600"', "0", "-1", "true", "1.5", "[600]"])
def test_a_bad_stored_retry_after_is_an_invalid_state_that_is_not_repeated(stored: str) -> None:
    raw = '{"on": true, "retry_after": ' + stored + "}"
    with pytest.raises(InvalidStateValueError) as raised:
        MaintenanceState.from_text(raw)
    assert "retry_after" in str(raised.value)
    assert raw not in str(raised.value)


async def test_stored_retry_after_wins_over_the_configured_one() -> None:
    backend = await memory_with(MaintenanceState(True, retry_after=120))
    app = bare_app(backend, retry_after=600)
    async with client(app) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert denial_retry_after(await websocket_handshake(app)) == "120"


async def test_a_window_countdown_wins_over_the_stored_retry_after() -> None:
    end = utc_now() + timedelta(minutes=10)
    state = MaintenanceState.scheduled(None, end).with_retry_after(7200)
    app = bare_app(await memory_with(state), retry_after=600)
    async with client(app) as c:
        response = await c.get("/")
    assert 598 <= int(response.headers["retry-after"]) <= 600


async def test_a_window_without_an_end_uses_the_stored_retry_after() -> None:
    state = MaintenanceState.scheduled(utc_now() - timedelta(minutes=1)).with_retry_after(45)
    async with client(bare_app(await memory_with(state))) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "45"


async def test_stored_retry_after_counts_only_while_the_stored_state_decides() -> None:
    backend = await memory_with(MaintenanceState(True, retry_after=120))
    async with client(bare_app(backend, retry_after=600, enable_maintenance=True)) as c:
        fixed = await c.get("/")
    async with client(bare_app(backend, retry_after=600)) as c:
        marked = await c.get("/forced")
    # enable_maintenance decides, and a route marked force_maintenance_mode_on is refused
    # whatever the state says: the configured value.
    assert fixed.headers["retry-after"] == marked.headers["retry-after"] == "600"


async def test_a_response_without_retry_after_never_sends_one() -> None:
    backend = await memory_with(MaintenanceState(True, retry_after=120))
    async with client(bare_app(backend, response=MaintenanceResponse(retry_after=None))) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert "retry-after" not in response.headers


# --- on --retry, through the installed command ---------------------------------------------


async def test_on_retry_stores_it_and_the_app_sends_it(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    lines = cli_output_lines(
        run_cli("fastapi", "on", "--backend", "file", "--file-path", path, "--retry", "600")
    )
    assert lines[0] == f"Maintenance mode is ON (file: {path})"
    assert json.loads(path.read_text(encoding="utf-8")) == {"on": True, "retry_after": 600}

    async with client(bare_app(LocalFileBackend(path))) as c:
        assert (await c.get("/")).headers["retry-after"] == "600"

    off = cli_output_lines(run_cli("fastapi", "off", "--backend", "file", "--file-path", path))
    assert off == [f"Maintenance mode is OFF (file: {path})"]
    assert path.read_text(encoding="utf-8") == "0"


def test_on_retry_with_a_window_stores_both(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    cli_output_lines(
        run_cli(
            "litestar", "on", "--backend", "file", "--file-path", path, "--for", "1h",
            "--retry", "300",
        )
    )  # fmt: skip
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"on", "end", "retry_after"}
    assert data["retry_after"] == 300


@pytest.mark.parametrize("value", ["0", "-3"])
def test_on_retry_that_is_not_positive_is_one_error_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "state.txt"
    result = run_cli("fastapi", "on", "--backend", "file", "--file-path", path, f"--retry={value}")
    line = cli_error_line(result)
    assert "Retry-After must be a positive whole number of seconds" in line
    assert not path.exists()
