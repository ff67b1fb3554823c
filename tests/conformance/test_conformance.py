"""One behaviour, three apps: every case runs on FastAPI, Litestar and a bare ASGI app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from maintenance_core import LocalFileBackend, MemoryBackend

from tests.support.waiting import eventually

from .flavors import FLAVORS, Flavor

pytestmark = pytest.mark.anyio

DEFAULT_BODY = {"detail": "Service temporarily unavailable due to maintenance"}


@pytest.fixture(params=FLAVORS, ids=lambda flavor: flavor.name)
def flavor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flavor]:
    chosen: Flavor = request.param
    monkeypatch.delenv(chosen.env_var, raising=False)
    chosen.registry.reset()
    yield chosen
    chosen.registry.reset()


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def assert_default_503(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.json() == DEFAULT_BODY
    assert response.headers["retry-after"] == "3600"
    assert response.headers["content-type"] == "application/json"


async def handshake(app: Any, path: str, *, denial_extension: bool = True) -> list[dict[str, Any]]:
    """Drive a websocket handshake through the ASGI app; return what it sent."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}} if denial_extension else {},
    }
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await app(scope, receive, send)
    return sent


# --- turning maintenance on ----------------------------------------------------------------


async def test_env_var_on_gives_the_default_503(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(flavor.env_var, "1")
    async with client(flavor.build()) as c:
        assert_default_503(await c.get("/"))


async def test_env_var_off_lets_requests_through(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(flavor.env_var, "off")
    async with client(flavor.build()) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "ok"}


async def test_enable_flag_replaces_the_backend_state(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client(flavor.build(enable_maintenance=True)) as c:
        assert_default_503(await c.get("/"))
    monkeypatch.setenv(flavor.env_var, "1")
    async with client(flavor.build(enable_maintenance=False)) as c:
        assert (await c.get("/")).status_code == 200


async def test_file_backend_written_by_another_writer(flavor: Flavor, tmp_path: Path) -> None:
    # The backend checks the file every check_interval (0.5 s by default): a change
    # written by another writer shows within that, not necessarily on the next request.
    state = tmp_path / "state.txt"
    async with client(flavor.build(backend=LocalFileBackend(state))) as c:
        assert (await c.get("/")).status_code == 200
        state.write_text("1")
        on = await eventually(lambda: c.get("/"), lambda r: r.status_code != 200, timeout=2.0)
        assert_default_503(on)
        state.write_text("0")
        off = await eventually(lambda: c.get("/"), lambda r: r.status_code != 503, timeout=2.0)
        assert off.status_code == 200


# --- markers and built-in exemptions -------------------------------------------------------


async def test_forced_off_handler_stays_reachable(flavor: Flavor) -> None:
    async with client(flavor.build(enable_maintenance=True)) as c:
        response = await c.get("/open")
    assert response.status_code == 200
    assert response.json() == {"message": "open"}


async def test_forced_on_handler_answers_503_while_maintenance_is_off(flavor: Flavor) -> None:
    async with client(flavor.build(enable_maintenance=False)) as c:
        assert_default_503(await c.get("/closed"))
        assert (await c.get("/")).status_code == 200


async def test_unknown_paths_and_methods_keep_404_and_405(flavor: Flavor) -> None:
    async with client(flavor.build(enable_maintenance=True)) as c:
        assert (await c.get("/no/such/route")).status_code == 404
        assert (await c.delete("/")).status_code == 405


@pytest.mark.parametrize("flavor", [f for f in FLAVORS if f.schema_path], ids=lambda f: f.name)
async def test_the_frameworks_schema_stays_reachable(flavor: Flavor) -> None:
    assert flavor.schema_path is not None
    async with client(flavor.build(enable_maintenance=True)) as c:
        response = await c.get(flavor.schema_path)
    assert response.status_code == 200
    assert "paths" in response.json()


# --- precedence ----------------------------------------------------------------------------


async def test_on_override_beats_the_enable_flag(flavor: Flavor) -> None:
    backend = MemoryBackend(False)
    async with client(flavor.build(enable_maintenance=False, backend=backend)) as c:
        async with flavor.maintenance_mode_on(backend=backend):
            assert_default_503(await c.get("/"))
            assert (await c.get("/open")).status_code == 200
        assert (await c.get("/")).status_code == 200


async def test_off_override_beats_the_enable_flag(flavor: Flavor) -> None:
    backend = MemoryBackend(True)
    async with client(flavor.build(enable_maintenance=True, backend=backend)) as c:
        async with flavor.maintenance_mode_off(backend=backend):
            assert (await c.get("/")).status_code == 200
            assert_default_503(await c.get("/closed"))
        assert_default_503(await c.get("/"))


async def test_exempt_handler_beats_overrides_but_not_a_forced_on_marker(flavor: Flavor) -> None:
    seen: list[object] = []

    def exempt(request: Any) -> bool:
        seen.append(request)
        return bool(request.headers.get("x-team") == "yes")

    backend = MemoryBackend(False)
    async with client(flavor.build(backend=backend, exempt_handler=exempt)) as c:
        assert (await c.get("/")).status_code == 200
        assert seen == [], "no exemption check while maintenance is off"
        async with flavor.maintenance_mode_on(backend=backend):
            assert (await c.get("/", headers={"x-team": "yes"})).status_code == 200
            assert_default_503(await c.get("/"))
            assert_default_503(await c.get("/closed", headers={"x-team": "yes"}))
    assert len(seen) == 2
    assert all(isinstance(request, flavor.request_type) for request in seen)


async def test_async_exempt_handler(flavor: Flavor) -> None:
    async def exempt(request: Any) -> bool:
        await anyio.lowlevel.checkpoint()
        return bool(request.headers.get("user-agent", "").startswith("Monitoring"))

    async with client(flavor.build(enable_maintenance=True, exempt_handler=exempt)) as c:
        assert (await c.get("/", headers={"user-agent": "Monitoring/2"})).status_code == 200
        assert_default_503(await c.get("/", headers={"user-agent": "curl/8"}))


# --- overrides -----------------------------------------------------------------------------


async def test_nested_overrides_on_the_default_env_backend(flavor: Flavor) -> None:
    app = flavor.build()
    async with client(app) as c:
        assert await flavor.get_maintenance_mode() is False
        async with flavor.maintenance_mode_on():
            assert await flavor.get_maintenance_mode() is True
            async with flavor.maintenance_mode_on():
                assert_default_503(await c.get("/"))
            assert await flavor.get_maintenance_mode() is True
            assert_default_503(await c.get("/"))
        assert await flavor.get_maintenance_mode() is False
        assert (await c.get("/")).status_code == 200
    assert flavor.env_var not in os.environ


async def test_override_on_a_file_backend_is_written_and_restored(
    flavor: Flavor, tmp_path: Path
) -> None:
    state = tmp_path / "state.txt"
    backend = LocalFileBackend(state)
    async with client(flavor.build(backend=backend)) as c:
        async with flavor.maintenance_mode_on(backend=backend):
            assert state.read_text() == "1"
            assert_default_503(await c.get("/"))
        assert state.read_text() == "0"
        assert (await c.get("/")).status_code == 200


async def test_set_maintenance_mode_through_the_module_api(flavor: Flavor, tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    async with client(flavor.build(backend=backend)) as c:
        # FastAPI builds its middleware at the first call it gets (lifespan or request).
        assert (await c.get("/")).status_code == 200
        await flavor.set_maintenance_mode(True)
        assert_default_503(await c.get("/"))
        await flavor.set_maintenance_mode(False)
        assert (await c.get("/")).status_code == 200


# --- responses -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_custom_response_handler(flavor: Flavor, kind: str) -> None:
    def build_response(request: Any) -> Any:
        assert isinstance(request, flavor.request_type)
        return flavor.json_response({"status": "maintenance"}, 503, {"Retry-After": "1800"})

    async def build_response_async(request: Any) -> Any:
        return build_response(request)

    handler = build_response if kind == "sync" else build_response_async
    async with client(flavor.build(enable_maintenance=True, response_handler=handler)) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.json() == {"status": "maintenance"}
    assert response.headers["retry-after"] == "1800"


async def test_response_handler_returning_junk_falls_back_to_the_default(flavor: Flavor) -> None:
    async with client(
        flavor.build(enable_maintenance=True, response_handler=lambda request: 42)
    ) as c:
        assert_default_503(await c.get("/"))


async def test_head_gets_the_headers_without_a_body(flavor: Flavor) -> None:
    async with client(flavor.build(enable_maintenance=True)) as c:
        response = await c.head("/both")
    assert response.status_code == 503
    assert response.content == b""
    assert response.headers["retry-after"] == "3600"


# --- websockets ----------------------------------------------------------------------------


async def test_websocket_refused_with_a_503_denial_response(flavor: Flavor) -> None:
    sent = await handshake(flavor.build(enable_maintenance=True), "/ws")
    assert [message["type"] for message in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"3600") in [tuple(header) for header in sent[0]["headers"]]


async def test_websocket_closed_with_1013_without_the_denial_extension(flavor: Flavor) -> None:
    sent = await handshake(flavor.build(enable_maintenance=True), "/ws", denial_extension=False)
    assert sent == [{"type": "websocket.close", "code": 1013, "reason": ""}]


async def test_forced_off_websocket_is_accepted(flavor: Flavor) -> None:
    sent = await handshake(flavor.build(enable_maintenance=True), "/ws-open")
    assert sent[0]["type"] == "websocket.accept"
    assert {"type": "websocket.send", "text": "hello"}.items() <= sent[1].items()
