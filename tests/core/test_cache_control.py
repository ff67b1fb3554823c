"""The default JSON 503 carries ``Cache-Control: no-store``, as the HTML page does, so no
browser, CDN or proxy keeps serving the 503 once maintenance is over."""

from __future__ import annotations

import pytest
from maintenance_core import (
    GenericAdapter,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MaintenanceResponse,
    MemoryBackend,
)
from maintenance_core.page import MaintenancePage
from maintenance_core.state import NOTICE_SCOPE_KEY, MaintenanceNotice

from tests.windows._helpers import FLAVORS, Flavor, build_app, client, websocket_handshake

pytestmark = pytest.mark.anyio

CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_the_json_503_is_not_stored(flavor: Flavor) -> None:
    app = build_app(flavor, MemoryBackend(True))  # type: ignore[arg-type]
    async with client(app) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"


async def test_the_head_503_is_not_stored() -> None:
    guard = MaintenanceGuard(adapter=GenericAdapter(), backend=MemoryBackend(True))
    async with client(MaintenanceMiddleware(MaintenanceResponse(), guard)) as c:
        response = await c.head("/")
    assert response.status_code == 503
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_the_websocket_denial_is_not_stored(flavor: Flavor) -> None:
    sent = await websocket_handshake(build_app(flavor, MemoryBackend(True)))  # type: ignore[arg-type]
    assert sent[0]["type"] == "websocket.http.response.start"
    assert (b"cache-control", b"no-store") in sent[0]["headers"]


def test_every_prepared_response_carries_no_store() -> None:
    for response in (
        MaintenanceResponse(),
        MaintenanceResponse(status_code=503, content={"detail": "x"}, retry_after=None),
    ):
        assert (b"cache-control", b"no-store") in response.headers
        assert (b"cache-control", b"no-store") in response.headers_for(30)


def test_the_pages_json_answer_carries_no_store() -> None:
    page = MaintenancePage()
    assert page.json_headers["cache-control"] == "no-store"
    notice = MaintenanceNotice(None, 60)
    for accept in ("application/json", CHROME):
        _, _, headers = page.answer({"headers": [(b"accept", accept.encode())]})
        assert headers["cache-control"] == "no-store"
        scope = {"headers": [(b"accept", accept.encode())], NOTICE_SCOPE_KEY: notice}
        _, _, headers = page.answer(scope)
        assert headers["cache-control"] == "no-store"
        assert headers["retry-after"] == "60"
