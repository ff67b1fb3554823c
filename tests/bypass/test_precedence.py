"""Where the bypass sits in the precedence: an exemption at step 3.

It never opens a route forced on, cannot change a forced-off route, a 404 or a
405, is checked before ``exempt_handler`` without replacing it, beats an
override context, and applies to websocket handshakes (header or cookie; the
redirect is for HTTP only).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fastapi_maintenance
import litestar_maintenance
import pytest
from litestar.exceptions import WebSocketDisconnect as LitestarDisconnect
from litestar.testing import TestClient as LitestarTestClient
from maintenance_core.backends import MemoryBackend
from starlette.testclient import TestClient as StarletteTestClient
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET, cookie_for

try:
    from starlette.testclient import WebSocketDenialResponse
except ImportError:  # pragma: no cover - older Starlette
    WebSocketDenialResponse = StarletteDisconnect  # type: ignore[misc,assignment]

pytestmark = pytest.mark.anyio

HEADER = "X-Maintenance-Bypass"
PARAM = "maintenance_bypass"


def cookie_header() -> str:
    return f"maintenance_bypass={cookie_for(SECRET)}"


async def answer(app: Any, url: str, headers: dict[str, str] | None = None) -> Any:
    async with client_for(app) as client:
        return await client.get(url, headers=headers)


def assert_plain_refusal(response: Any) -> None:
    assert response.status_code == 503
    assert "set-cookie" not in response.headers
    assert "location" not in response.headers


# --- markers ------------------------------------------------------------------------------


@pytest.mark.parametrize("maintenance", [True, False])
async def test_forced_on_route_stays_closed(framework: str, maintenance: bool) -> None:
    app = build(framework, enable_maintenance=maintenance, bypass_secret=SECRET)
    assert_plain_refusal(await answer(app, "/closed", {HEADER: SECRET}))
    assert_plain_refusal(await answer(app, "/closed", {"Cookie": cookie_header()}))
    # No redirect and no cookie for the parameter: the bypass cannot open this route.
    assert_plain_refusal(await answer(app, f"/closed?{PARAM}={SECRET}&x=1"))


async def test_forced_off_route_is_unaffected(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    for headers in (
        None,
        {HEADER: SECRET},
        {HEADER: OTHER_SECRET},
        {"Cookie": "maintenance_bypass=x"},
    ):
        response = await answer(app, "/open", headers)
        assert response.status_code == 200
        assert response.json() == {"route": "open"}
    # A secret in the URL never reaches the app: the request is sent back without it.
    response = await answer(app, f"/open?{PARAM}={SECRET}&x=1")
    assert response.status_code == 302
    assert response.headers["location"] == "./open?x=1"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("GET", "/nope", 404), ("GET", "/submit", 405), ("DELETE", "/items", 405)],
)
async def test_not_found_and_not_allowed_are_unaffected(
    framework: str, method: str, path: str, expected: int
) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        for headers in (None, {HEADER: SECRET}, {HEADER: OTHER_SECRET}):
            response = await client.request(method, path, headers=headers)
            assert response.status_code == expected
        response = await client.request(method, f"{path}?{PARAM}={SECRET}")
        if framework == "litestar":
            # Litestar answers 404/405 before any middleware: no app code sees the URL.
            assert response.status_code == expected
        else:
            # The framework's 404/405 is app code too: the secret is dropped first.
            assert response.status_code == 302
            assert response.headers["location"] == "./" + path.rsplit("/", 1)[-1]


async def test_post_with_the_secret_reaches_an_existing_route(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        assert (await client.post("/submit")).status_code == 503
        response = await client.post("/submit", headers={HEADER: SECRET})
    assert response.status_code == 200
    assert response.json() == {"route": "submit"}


# --- exempt_handler -----------------------------------------------------------------------


class Handler:
    """An ``exempt_handler`` that counts its calls."""

    def __init__(self, result: bool) -> None:
        self.result = result
        self.calls = 0

    def __call__(self, request: Any) -> bool:
        self.calls += 1
        return self.result


async def test_exempt_handler_still_decides_without_a_valid_secret(framework: str) -> None:
    refusing = Handler(False)
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET, exempt_handler=refusing)
    assert (await answer(app, "/items")).status_code == 503
    assert (await answer(app, "/items", {HEADER: OTHER_SECRET})).status_code == 503
    assert refusing.calls == 2
    assert (await answer(app, "/items", {HEADER: SECRET})).status_code == 200

    admitting = Handler(True)
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET, exempt_handler=admitting)
    assert (await answer(app, "/items")).status_code == 200
    assert (await answer(app, "/items", {HEADER: OTHER_SECRET})).status_code == 200
    assert admitting.calls == 2
    # Exempt, hence about to reach the app: the secret in the URL is dropped first.
    response = await answer(app, f"/items?{PARAM}={SECRET}")
    assert response.status_code == 302
    assert response.headers["location"] == "./items"


async def test_exempt_handler_is_not_asked_while_maintenance_is_off(framework: str) -> None:
    handler = Handler(False)
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET, exempt_handler=handler)
    assert (await answer(app, "/items", {HEADER: SECRET})).status_code == 200
    assert handler.calls == 0


# --- overrides ------------------------------------------------------------------------------


async def test_secret_beats_an_override_context(framework: str) -> None:
    backend = MemoryBackend(False)
    app = build(framework, backend=backend, bypass_secret=SECRET)
    registry: Any = fastapi_maintenance if framework == "fastapi" else litestar_maintenance
    assert (await answer(app, "/items")).status_code == 200
    async with registry.maintenance_mode_on(backend):
        assert (await answer(app, "/items")).status_code == 503
        assert (await answer(app, "/items", {HEADER: SECRET})).status_code == 200
        response = await answer(app, f"/items?{PARAM}={SECRET}")
        assert response.status_code == 302
        assert response.headers["location"] == "./items"


# --- websockets -----------------------------------------------------------------------------

REFUSALS = (StarletteDisconnect, WebSocketDenialResponse, LitestarDisconnect)


@contextmanager
def sync_client(framework: str, app: Any) -> Iterator[Any]:
    client_class: Any = StarletteTestClient if framework == "fastapi" else LitestarTestClient
    with client_class(app) as client:
        yield client


def handshake(client: Any, path: str, headers: dict[str, str] | None = None) -> str | int:
    """``"hello"`` when the handshake is accepted, else the refusal's status or close code."""
    try:
        # A new dict each time: Starlette's client adds its handshake headers to it.
        with client.websocket_connect(path, headers=dict(headers or {})) as ws:
            return str(ws.receive_text())
    except REFUSALS as refused:
        status = getattr(refused, "status_code", None)
        if isinstance(status, int):
            return status  # a denial response (Starlette's client has the extension)
        return int(refused.code)  # a close (1013, try again later)


REFUSED = {503, 1013}


def test_websocket_handshake_with_the_secret_passes(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    with sync_client(framework, app) as client:
        assert handshake(client, "/ws") in REFUSED
        assert handshake(client, "/ws", {HEADER: SECRET}) == "hello"
        assert handshake(client, "/ws", {HEADER: OTHER_SECRET}) in REFUSED
        assert handshake(client, "/ws", {"Cookie": cookie_header()}) == "hello"
        assert handshake(client, "/ws", {"Cookie": "maintenance_bypass=1.forged"}) in REFUSED
        # No redirect for a websocket: the parameter does not open it.
        assert handshake(client, f"/ws?{PARAM}={SECRET}") in REFUSED
        # Forced on: closed even with the secret.
        assert handshake(client, "/ws-closed", {HEADER: SECRET}) in REFUSED
        assert handshake(client, "/ws-closed", {"Cookie": cookie_header()}) in REFUSED


def test_websocket_secret_is_irrelevant_while_maintenance_is_off(framework: str) -> None:
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET)
    with sync_client(framework, app) as client:
        assert handshake(client, "/ws") == "hello"
        assert handshake(client, "/ws", {HEADER: OTHER_SECRET}) == "hello"
