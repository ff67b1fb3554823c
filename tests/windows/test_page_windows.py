"""``maintenance_page()`` and custom response handlers during a window."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.responses import JSONResponse as StarletteJSON
from fastapi_maintenance.responses import maintenance_page as fastapi_page
from litestar.response import Response as LitestarResponse
from litestar_maintenance.responses import maintenance_page as litestar_page
from maintenance_core import MemoryBackend
from maintenance_core.state import NOTICE_SCOPE_KEY, MaintenanceNotice, MaintenanceState

from ._helpers import (
    MAINTENANCE_JSON,
    Flavor,
    assert_retry_after_counts_down_to,
    build_app,
    client,
    utc_now,
)

pytestmark = pytest.mark.anyio

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TIME_TAG = re.compile(r'<time datetime="([^"]+)">([^<]+)</time>')


def page_handler(flavor: Flavor, **options: Any) -> Any:
    return (fastapi_page if flavor == "fastapi" else litestar_page)(**options)


async def memory_with(state: MaintenanceState) -> MemoryBackend:
    backend = MemoryBackend()
    await backend.set_state(state)
    return backend


def shown(end: datetime) -> str:
    """How the page writes the end for people: "21 November 2026, 23:30 UTC"."""
    utc = end.astimezone(timezone.utc)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


async def test_browser_gets_the_expected_end_and_the_countdown(flavor: Flavor) -> None:
    end = (utc_now() + timedelta(minutes=75)).replace(microsecond=0)
    backend = await memory_with(MaintenanceState.scheduled(None, end))
    app = build_app(flavor, backend, page_handler(flavor, title="Back soon"))

    async with client(app) as c:
        response = await c.get("/", headers={"accept": BROWSER})

    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "accept" in response.headers["vary"].lower()
    assert_retry_after_counts_down_to(response.headers, end)
    body = response.text
    assert "<h1>Back soon</h1>" in body
    assert "Expected back by" in body
    match = TIME_TAG.search(body)
    assert match is not None, body
    assert match.group(1) == end.isoformat()
    assert match.group(1).endswith("+00:00")
    assert datetime.fromisoformat(match.group(1)) == end
    assert match.group(2) == shown(end)
    assert int(response.headers["content-length"]) == len(response.content)


async def test_page_shows_an_end_given_in_another_zone_in_utc(flavor: Flavor) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    end_local = (utc_now() + timedelta(hours=2)).astimezone(india).replace(microsecond=0)
    backend = await memory_with(MaintenanceState.scheduled(None, end_local.isoformat()))
    async with client(build_app(flavor, backend, page_handler(flavor))) as c:
        response = await c.get("/", headers={"accept": "text/html"})
    match = TIME_TAG.search(response.text)
    assert match is not None
    end_utc = end_local.astimezone(timezone.utc)
    assert match.group(1) == end_utc.isoformat()
    assert match.group(2) == shown(end_utc)
    assert_retry_after_counts_down_to(response.headers, end_utc)


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
async def test_json_clients_get_the_documented_json_with_the_countdown(
    flavor: Flavor, accept: str | None
) -> None:
    end = utc_now() + timedelta(minutes=40)
    backend = await memory_with(MaintenanceState.scheduled(None, end))
    headers = {} if accept is None else {"accept": accept}
    async with client(build_app(flavor, backend, page_handler(flavor, refresh=30))) as c:
        response = await c.get("/", headers=headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.content == MAINTENANCE_JSON
    assert_retry_after_counts_down_to(response.headers, end)
    assert "accept" in response.headers["vary"].lower()


async def test_a_later_window_shows_its_own_end(flavor: Flavor) -> None:
    # The page for one end is rendered once; a new window must not reuse it.
    first_end = (utc_now() + timedelta(hours=1)).replace(microsecond=0)
    backend = await memory_with(MaintenanceState.scheduled(None, first_end))
    async with client(build_app(flavor, backend, page_handler(flavor))) as c:
        first = await c.get("/", headers={"accept": BROWSER})
        second_end = first_end + timedelta(hours=3)
        await backend.set_state(MaintenanceState.scheduled(None, second_end))
        second = await c.get("/", headers={"accept": BROWSER})
    assert f'datetime="{first_end.isoformat()}"' in first.text
    assert f'datetime="{second_end.isoformat()}"' in second.text
    assert first_end.isoformat() not in second.text
    assert_retry_after_counts_down_to(second.headers, second_end)


@pytest.mark.parametrize(
    "state",
    [MaintenanceState(True), MaintenanceState(True, datetime(2001, 1, 1, tzinfo=timezone.utc))],
    ids=["plain-on", "window-without-end"],
)
async def test_without_an_end_the_page_has_no_expected_time(
    flavor: Flavor, state: MaintenanceState
) -> None:
    backend = await memory_with(state)
    async with client(build_app(flavor, backend, page_handler(flavor))) as c:
        html = await c.get("/", headers={"accept": BROWSER})
        api = await c.get("/", headers={"accept": "application/json"})
    assert html.status_code == 503
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "Expected back by" not in html.text
    assert "<time" not in html.text
    assert html.headers["retry-after"] == "3600"
    assert api.content == MAINTENANCE_JSON
    assert api.headers["retry-after"] == "3600"


# --- custom response handlers read the notice -------------------------------------------


def notice_handler(flavor: Flavor, seen: list[Any]) -> Any:
    def describe(notice: Any) -> dict[str, Any]:
        seen.append(notice)
        if not isinstance(notice, MaintenanceNotice):
            return {"notice": repr(notice)}
        return {
            "end": None if notice.end is None else notice.end.isoformat(),
            "retry_after": notice.retry_after,
        }

    if flavor == "fastapi":

        def fastapi_handler(request: Any) -> StarletteJSON:
            return StarletteJSON(describe(request.scope[NOTICE_SCOPE_KEY]), status_code=503)

        return fastapi_handler

    def litestar_handler(request: Any) -> LitestarResponse[Any]:
        return LitestarResponse(describe(request.scope[NOTICE_SCOPE_KEY]), status_code=503)

    return litestar_handler


async def test_custom_handler_reads_the_notice_of_a_window(flavor: Flavor) -> None:
    end = utc_now() + timedelta(minutes=20)
    backend = await memory_with(MaintenanceState.scheduled(utc_now(), end))
    seen: list[Any] = []
    async with client(build_app(flavor, backend, notice_handler(flavor, seen))) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert len(seen) == 1
    notice = seen[0]
    assert isinstance(notice, MaintenanceNotice)
    assert notice.end == end
    assert notice.retry_after is not None
    assert abs(notice.retry_after - (end.timestamp() - utc_now().timestamp())) <= 2
    assert response.json() == {"end": end.isoformat(), "retry_after": notice.retry_after}


async def test_custom_handler_notice_without_a_window(flavor: Flavor) -> None:
    seen: list[Any] = []
    backend = MemoryBackend(True)
    async with client(build_app(flavor, backend, notice_handler(flavor, seen))) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert seen == [MaintenanceNotice(None, 3600)]
    assert response.json() == {"end": None, "retry_after": 3600}


async def test_custom_handler_is_not_called_before_the_window(flavor: Flavor) -> None:
    start = utc_now() + timedelta(hours=1)
    backend = await memory_with(MaintenanceState.scheduled(start, start + timedelta(hours=1)))
    seen: list[Any] = []
    async with client(build_app(flavor, backend, notice_handler(flavor, seen))) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert seen == []
