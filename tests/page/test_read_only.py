"""The page during read-only maintenance: it says the service is read-only (HTML and JSON),
with the usual ``Retry-After``; groups alone keep the usual page; a route forced on is closed,
not read-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import litestar
import litestar_maintenance
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware as FastAPIMiddleware
from fastapi_maintenance import force_maintenance_mode_on as fastapi_forced_on
from fastapi_maintenance.responses import maintenance_page as fastapi_page
from litestar_maintenance import MaintenanceModeMiddleware as LitestarMiddleware
from litestar_maintenance.responses import maintenance_page as litestar_page
from maintenance_core import DEFAULT_DETAIL, ConfigurationError, MemoryBackend
from maintenance_core.coverage import WHOLE_SITE, Coverage
from maintenance_core.page import (
    DEFAULT_MESSAGE,
    DEFAULT_READ_ONLY_MESSAGE,
    DEFAULT_READ_ONLY_TITLE,
    DEFAULT_TEXTS,
    DEFAULT_TITLE,
    TEMPLATE_PLACEHOLDERS,
    MaintenancePage,
    render_page,
)
from maintenance_core.responses import READ_ONLY_DETAIL
from maintenance_core.state import NOTICE_SCOPE_KEY, MaintenanceNotice, MaintenanceState
from maintenance_core.testing import reset

from .test_negotiation import CHROME

pytestmark = pytest.mark.anyio

END = datetime(2026, 11, 21, 23, 0, tzinfo=timezone.utc)
READ_ONLY = Coverage(read_only=True)
PAYMENTS = Coverage(groups=frozenset({"payments"}))
READ_ONLY_PAYMENTS = Coverage(read_only=True, groups=frozenset({"payments"}))


def scope_for(accept: str, notice: MaintenanceNotice | None) -> dict[str, Any]:
    scope: dict[str, Any] = {"headers": [(b"accept", accept.encode())]}
    if notice is not None:
        scope[NOTICE_SCOPE_KEY] = notice
    return scope


def html_of(page: MaintenancePage, notice: MaintenanceNotice | None) -> tuple[str, dict[str, str]]:
    is_html, body, headers = page.answer(scope_for(CHROME, notice))
    assert is_html
    return body.decode(), dict(headers)


def json_of(page: MaintenancePage, notice: MaintenanceNotice | None) -> tuple[Any, dict[str, str]]:
    is_html, body, headers = page.answer(scope_for("application/json", notice))
    assert not is_html
    return json.loads(body), dict(headers)


# --- rendering ------------------------------------------------------------------------------


def test_the_read_only_defaults() -> None:
    assert DEFAULT_READ_ONLY_TITLE == "Read-only for maintenance"
    assert "changes" in DEFAULT_READ_ONLY_MESSAGE
    assert DEFAULT_TEXTS["read_only_title"] == DEFAULT_READ_ONLY_TITLE
    assert DEFAULT_TEXTS["read_only_message"] == DEFAULT_READ_ONLY_MESSAGE
    page = render_page(read_only=True)
    assert f"<title>{DEFAULT_READ_ONLY_TITLE}</title>" in page
    assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in page
    assert f"<p>{DEFAULT_READ_ONLY_MESSAGE}</p>" in page
    assert DEFAULT_TITLE not in page
    assert DEFAULT_MESSAGE not in page
    assert render_page() == render_page(read_only=False)


def test_a_read_only_notice_gets_the_read_only_page_and_its_retry_after() -> None:
    page = MaintenancePage(refresh=60)
    text, headers = html_of(page, MaintenanceNotice(None, 600, READ_ONLY))
    assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in text
    assert f"<p>{DEFAULT_READ_ONLY_MESSAGE}</p>" in text
    assert '<meta http-equiv="refresh" content="60">' in text
    assert headers["retry-after"] == "600"
    assert headers["cache-control"] == "no-store"
    assert headers["vary"] == "Accept"
    assert page.read_only_html.decode() == text


def test_the_json_variant_is_the_read_only_detail() -> None:
    page = MaintenancePage("Custom title")
    body, headers = json_of(page, MaintenanceNotice(None, 120, READ_ONLY_PAYMENTS))
    assert body == {"detail": READ_ONLY_DETAIL}
    assert headers["retry-after"] == "120"
    assert json.loads(page.read_only_json) == {"detail": READ_ONLY_DETAIL}
    # Without a Retry-After in the notice, the prepared headers.
    body, headers = json_of(page, MaintenanceNotice(None, None, READ_ONLY))
    assert body == {"detail": READ_ONLY_DETAIL}
    assert headers["retry-after"] == "3600"
    # The whole-site JSON is unchanged.
    assert json_of(page, MaintenanceNotice(None, 120))[0] == {"detail": DEFAULT_DETAIL}


def test_a_read_only_window_shows_its_end_and_counts_down() -> None:
    page = MaintenancePage()
    text, headers = html_of(page, MaintenanceNotice(END, 59, READ_ONLY))
    assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in text
    assert 'Expected back by <time datetime="2026-11-21T23:00:00+00:00">' in text
    assert headers["retry-after"] == "59"
    # The same window for the whole site is its own page, and each is kept apart.
    full, _ = html_of(page, MaintenanceNotice(END, 58))
    assert f"<h1>{DEFAULT_TITLE}</h1>" in full
    assert 'Expected back by <time datetime="2026-11-21T23:00:00+00:00">' in full
    again, headers = html_of(page, MaintenanceNotice(END, 57, READ_ONLY))
    assert again == text
    assert headers["retry-after"] == "57"


@pytest.mark.parametrize("coverage", [WHOLE_SITE, PAYMENTS], ids=["whole-site", "groups"])
def test_maintenance_that_is_not_read_only_keeps_the_usual_page(coverage: Coverage) -> None:
    page = MaintenancePage("Back soon")
    text, headers = html_of(page, MaintenanceNotice(None, 300, coverage))
    assert "<h1>Back soon</h1>" in text
    assert DEFAULT_READ_ONLY_TITLE not in text
    assert headers["retry-after"] == "300"
    assert json_of(page, MaintenanceNotice(None, 300, coverage))[0] == {"detail": DEFAULT_DETAIL}


def test_without_a_notice_the_usual_page() -> None:
    page = MaintenancePage()
    text, headers = html_of(page, None)
    assert f"<h1>{DEFAULT_TITLE}</h1>" in text
    assert headers["retry-after"] == "3600"


def test_the_title_given_is_for_whole_site_maintenance_only() -> None:
    page = MaintenancePage("Back at 14:00", "The database is upgraded.")
    text, _ = html_of(page, MaintenanceNotice(None, 60, READ_ONLY))
    assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in text
    assert "Back at 14:00" not in text
    assert "The database is upgraded." not in text


def test_texts_translate_the_read_only_page_and_are_escaped() -> None:
    texts = {
        "read_only_title": "Lecture seule <b>",
        "read_only_message": "Vous pouvez lire ; les modifications coûtent 5 $ & attendent.",
    }
    page = MaintenancePage(texts=texts, lang="fr")
    text, _ = html_of(page, MaintenanceNotice(None, 60, READ_ONLY))
    assert '<html lang="fr">' in text
    assert "<title>Lecture seule &lt;b&gt;</title>" in text
    assert "<h1>Lecture seule &lt;b&gt;</h1>" in text
    assert "<p>Vous pouvez lire ; les modifications coûtent 5 $ &amp; attendent.</p>" in text
    assert "<b>" not in text


@pytest.mark.parametrize("key", ["read_only_title", "read_only_message"])
def test_bad_read_only_texts_are_refused(key: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"texts\['{key}'\] must be a string"):
        MaintenancePage(texts={key: 3})


def test_a_template_gets_the_read_only_texts_and_a_read_only_flag() -> None:
    assert "read_only" in TEMPLATE_PLACEHOLDERS
    page = MaintenancePage(
        "Closed", template='<body data-read-only="$read_only"><h1>$title</h1><p>$message</p>'
    )
    read_only, _ = html_of(page, MaintenanceNotice(None, 60, READ_ONLY))
    assert read_only == (
        f'<body data-read-only="true"><h1>{DEFAULT_READ_ONLY_TITLE}</h1>'
        f"<p>{DEFAULT_READ_ONLY_MESSAGE}</p>"
    )
    closed, _ = html_of(page, MaintenanceNotice(None, 60))
    assert closed == f'<body data-read-only="false"><h1>Closed</h1><p>{DEFAULT_MESSAGE}</p>'
    assert page.html.decode() == closed


def test_a_template_showing_retry_after_follows_the_read_only_countdown() -> None:
    page = MaintenancePage(template="$read_only $retry_after")
    assert html_of(page, MaintenanceNotice(END, 59, READ_ONLY))[0] == "true 59"
    assert html_of(page, MaintenanceNotice(END, 58, READ_ONLY))[0] == "true 58"
    assert html_of(page, MaintenanceNotice(END, 58))[0] == "false 58"
    assert html_of(page, MaintenanceNotice(None, 600, READ_ONLY))[0] == "true 600"


# --- through the middleware of both adapters -------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_litestar_registry() -> Any:
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


def _fastapi_app(backend: MemoryBackend, **page: Any) -> Any:
    app = FastAPI()
    app.add_middleware(FastAPIMiddleware, backend=backend, response_handler=fastapi_page(**page))

    @app.api_route("/items", methods=["GET", "POST", "DELETE"])
    def items() -> dict[str, str]:
        return {"message": "items"}

    @app.post("/closed")
    @fastapi_forced_on
    def closed() -> dict[str, str]:
        return {"message": "closed"}

    return app


def _litestar_app(backend: MemoryBackend, **page: Any) -> Any:
    @litestar.route("/items", http_method=["GET", "POST", "DELETE"], status_code=200)
    async def items() -> dict[str, str]:
        return {"message": "items"}

    @litestar.post("/closed", opt={"maintenance_mode": "on"}, status_code=200)
    async def closed() -> dict[str, str]:
        return {"message": "closed"}

    return litestar.Litestar(
        route_handlers=[items, closed],
        middleware=[LitestarMiddleware(backend=backend, response_handler=litestar_page(**page))],
    )


AppFactory = Callable[..., Any]


@pytest.fixture(params=["fastapi", "litestar"])
def make_app(request: pytest.FixtureRequest) -> AppFactory:
    return _fastapi_app if request.param == "fastapi" else _litestar_app


async def _call(app: Any, method: str, path: str, accept: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        return await client.request(method, path, headers={"accept": accept})


async def test_reads_pass_and_a_browsers_write_gets_the_read_only_page(
    make_app: AppFactory,
) -> None:
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState(True, read_only=True, retry_after=900))
    app = make_app(backend, title="Back soon", refresh=30)

    read = await _call(app, "GET", "/items", CHROME)
    assert read.status_code == 200, read.text
    assert read.json() == {"message": "items"}

    for method in ("POST", "DELETE"):
        write = await _call(app, method, "/items", CHROME)
        assert write.status_code == 503, write.text
        assert write.headers["content-type"] == "text/html; charset=utf-8"
        assert write.headers["retry-after"] == "900"
        assert write.headers["cache-control"] == "no-store"
        assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in write.text
        assert "Back soon" not in write.text

        api = await _call(app, method, "/items", "application/json")
        assert api.status_code == 503
        assert api.headers["content-type"] == "application/json"
        assert api.headers["retry-after"] == "900"
        assert api.json() == {"detail": READ_ONLY_DETAIL}


async def test_a_read_only_window_counts_down_on_the_page(make_app: AppFactory) -> None:
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState.scheduled(end=end).with_coverage(READ_ONLY))
    app = make_app(backend)
    write = await _call(app, "POST", "/items", CHROME)
    assert write.status_code == 503
    assert 7190 <= int(write.headers["retry-after"]) <= 7200
    assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in write.text
    assert f'<time datetime="{end.isoformat()}">' in write.text


async def test_a_route_forced_on_is_closed_not_read_only(make_app: AppFactory) -> None:
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState(True, read_only=True))
    app = make_app(backend, title="Closed for now")
    page = await _call(app, "POST", "/closed", CHROME)
    assert page.status_code == 503
    assert "<h1>Closed for now</h1>" in page.text
    assert DEFAULT_READ_ONLY_TITLE not in page.text
    api = await _call(app, "POST", "/closed", "application/json")
    assert api.json() == {"detail": DEFAULT_DETAIL}


async def test_maintenance_limited_to_groups_keeps_the_usual_page(make_app: AppFactory) -> None:
    # No route is in the group: nothing is refused but the route forced on, closed as usual.
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState(True, groups=frozenset({"payments"})))
    app = make_app(backend)
    assert (await _call(app, "POST", "/items", CHROME)).status_code == 200
    page = await _call(app, "POST", "/closed", CHROME)
    assert page.status_code == 503
    assert f"<h1>{DEFAULT_TITLE}</h1>" in page.text
