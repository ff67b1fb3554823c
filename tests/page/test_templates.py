"""The maintenance page of the user's own: a template (string or file), the fixed
sentences in other words, ``lang``; values escaped, nothing evaluated."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.responses import maintenance_page as fastapi_page
from litestar import Litestar, get
from litestar_maintenance import MaintenanceModeMiddleware as LitestarMiddleware
from litestar_maintenance.responses import maintenance_page as litestar_page
from maintenance_core import ConfigurationError, MaintenanceConfig, MemoryBackend
from maintenance_core.page import (
    DEFAULT_TEXTS,
    TEMPLATE_PLACEHOLDERS,
    MaintenancePage,
    render_page,
)
from maintenance_core.state import NOTICE_SCOPE_KEY, MaintenanceNotice, MaintenanceState

from tests.windows._helpers import client

pytestmark = pytest.mark.anyio

CHROME = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
END = datetime(2026, 11, 21, 23, 0, tzinfo=timezone.utc)
EVERYTHING = " | ".join(f"{name}=${name}" for name in TEMPLATE_PLACEHOLDERS)


def html_scope(notice: MaintenanceNotice | None = None) -> dict[str, Any]:
    scope: dict[str, Any] = {"headers": [(b"accept", CHROME["accept"].encode())]}
    if notice is not None:
        scope[NOTICE_SCOPE_KEY] = notice
    return scope


def page_text(page: MaintenancePage, notice: MaintenanceNotice | None = None) -> str:
    is_html, body, _ = page.answer(html_scope(notice))
    assert is_html
    return body.decode()


# --- a template of one's own ----------------------------------------------------------------


def test_a_template_string_gets_every_placeholder() -> None:
    page = MaintenancePage("Upgrade", "Back soon.", 30, template=EVERYTHING, lang="fr")
    text = page_text(page, MaintenanceNotice(END, 600))
    values = dict(part.split("=", 1) for part in text.split(" | "))
    assert values["lang"] == "fr"
    assert values["title"] == "Upgrade"
    assert values["message"] == "Back soon."
    assert values["end"] == "21 November 2026, 23:00 UTC"
    assert values["end_iso"] == "2026-11-21T23:00:00+00:00"
    assert values["retry_after"] == "600"
    assert values["refresh"] == "30"
    assert values["end_note"] == (
        '<p>Expected back by <time datetime="2026-11-21T23:00:00+00:00">'
        "21 November 2026, 23:00 UTC</time>.</p>\n"
    )
    assert values["refresh_meta"] == '<meta http-equiv="refresh" content="30">\n'
    assert values["refresh_note"] == (
        '<p class="note">This page refreshes itself every 30 seconds.</p>\n'
    )


def test_without_a_window_or_refresh_the_placeholders_are_empty() -> None:
    text = page_text(MaintenancePage(template=EVERYTHING))
    values = dict(part.split("=", 1) for part in text.split(" | "))
    assert values["retry_after"] == "3600"
    for name in ("end", "end_iso", "refresh", "end_note", "refresh_meta", "refresh_note"):
        assert values[name] == "", name


def test_a_template_file_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "maintenance.html"
    path.write_text("<h1>$title</h1><p>Zurück um $end</p>", encoding="utf-8")
    page = MaintenancePage("Wartung", template_path=path)
    path.unlink()  # read at construction, never per request
    assert page_text(page) == "<h1>Wartung</h1><p>Zurück um </p>"
    assert "21 November 2026" in page_text(page, MaintenanceNotice(END, 60))


def test_values_are_escaped_and_nothing_is_evaluated() -> None:
    hostile = "<script>alert(1)</script> ${title} $$ {0.__class__} & \"'"
    page = MaintenancePage(hostile, hostile, template="<title>$title</title><p>${message}</p>")
    text = page_text(page)
    assert "<script" not in text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; ${title} $$ {0.__class__} &amp; &quot;&#x27;"
    assert text == f"<title>{escaped}</title><p>{escaped}</p>"


def test_dollar_signs_and_braced_placeholders() -> None:
    page = MaintenancePage(template="Price: $$5, ${title}s")
    assert page_text(page) == "Price: $5, Down for maintenances"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("$title $nope", r"unknown placeholder \$nope; the placeholders are"),
        ("${__class__}", r"unknown placeholder \$__class__"),
        ("$a $b", r"unknown placeholders \$a, \$b"),
        ("costs $5", r"a '\$' that starts no placeholder \(line 1\): write \$\$"),
        ("line\ncosts $ 5", r"\(line 2\)"),
    ],
)
def test_a_bad_template_is_refused_when_built(template: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MaintenancePage(template=template)
    with pytest.raises(ConfigurationError, match=message):
        fastapi_page(template=template)
    with pytest.raises(ConfigurationError, match=message):
        litestar_page(template=template)


def test_template_argument_errors(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("$title", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="either template= or template_path="):
        MaintenancePage(template="$title", template_path=path)
    with pytest.raises(ConfigurationError, match="Cannot read the page template"):
        MaintenancePage(template_path=tmp_path / "missing.html")
    (tmp_path / "latin1.html").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ConfigurationError, match="Cannot read the page template"):
        MaintenancePage(template_path=tmp_path / "latin1.html")
    with pytest.raises(ConfigurationError, match="template must be a string"):
        MaintenancePage(template=b"$title")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="template_path must be a path"):
        MaintenancePage(template_path=42)  # type: ignore[arg-type]


def test_a_template_with_retry_after_follows_the_countdown() -> None:
    page = MaintenancePage(template="$retry_after")
    assert page_text(page) == "3600"
    assert page_text(page, MaintenanceNotice(None, 600)) == "600"
    assert page_text(page, MaintenanceNotice(END, 59)) == "59"
    assert page_text(page, MaintenanceNotice(END, 58)) == "58"


def test_a_template_without_retry_after_is_rendered_once_per_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = MaintenancePage(template="$end")
    first = page_text(page, MaintenanceNotice(END, 59))
    calls: list[object] = []
    render = page._renderer.render

    def counting(*args: Any) -> str:
        calls.append(args)
        return render(*args)

    monkeypatch.setattr(page._renderer, "render", counting)
    assert page_text(page, MaintenanceNotice(END, 58)) == first
    assert page_text(page, MaintenanceNotice(None, 600)) == ""
    assert calls == []


# --- the default page in other words --------------------------------------------------------


FRENCH = {
    "expected_back": "Retour prévu le $end.",
    "refreshes": "Cette page se recharge toutes les $seconds secondes.",
    "refreshes_one": "Cette page se recharge chaque seconde.",
    "date_format": "%d/%m/%Y à %H:%M UTC",
}


def test_lang_and_texts_change_the_default_page() -> None:
    page = MaintenancePage("Maintenance", "Nous revenons vite.", 60, texts=FRENCH, lang="fr")
    text = page_text(page, MaintenanceNotice(END, 60))
    assert '<html lang="fr">' in text
    assert (
        'Retour prévu le <time datetime="2026-11-21T23:00:00+00:00">21/11/2026 à 23:00 UTC'
        "</time>." in text
    )
    assert "Cette page se recharge toutes les 60 secondes." in text
    assert "Expected back" not in text
    assert "refreshes itself" not in text
    one = render_page(refresh=1, texts=FRENCH, lang="fr")
    assert "Cette page se recharge chaque seconde." in one


def test_refreshes_alone_serves_one_second_too() -> None:
    page = render_page(refresh=1, texts={"refreshes": "Neu laden alle $seconds s."})
    assert "Neu laden alle 1 s." in page


def test_texts_are_escaped_around_their_placeholders() -> None:
    page = render_page(end=END, texts={"expected_back": "<b>Back</b> & ready by $end"})
    assert "&lt;b&gt;Back&lt;/b&gt; &amp; ready by <time" in page
    assert "<b>" not in page


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"expected": "x"}, "unknown key expected; the keys are expected_back"),
        ({"expected_back": 3}, r"texts\['expected_back'\] must be a string"),
        ({"expected_back": "by $when"}, r"unknown placeholder \$when; the placeholders are \$end"),
        ({"refreshes": "every $end"}, r"placeholder \$end; the placeholders are \$seconds"),
        ({"refreshes": "costs $"}, "starts no placeholder"),
        ("Retour", "texts must be a mapping"),
    ],
)
def test_bad_texts_are_refused(texts: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MaintenancePage(texts=texts)


@pytest.mark.parametrize("lang", ["", "fr_FR", "en US", '"><script>', 3, None, "toolonglanguage"])
def test_a_lang_that_is_not_a_language_tag_is_refused(lang: Any) -> None:
    with pytest.raises(ConfigurationError, match="lang must be a language tag"):
        MaintenancePage(lang=lang)


@pytest.mark.parametrize("lang", ["fr", "pt-BR", "zh-Hant-TW", "de-CH-1996"])
def test_language_tags(lang: str) -> None:
    assert f'<html lang="{lang}">' in MaintenancePage(lang=lang).html.decode()


def test_default_texts_are_the_english_sentences() -> None:
    assert render_page(refresh=30, texts=DEFAULT_TEXTS) == render_page(refresh=30)
    page = render_page(end=END, refresh=1)
    assert "Expected back by" in page
    assert "21 November 2026, 23:00 UTC" in page
    assert "This page refreshes itself every 1 second." in page


# --- through the middleware of both adapters -----------------------------------------------


TEMPLATE = '<html lang="$lang"><h1>$title</h1><p>$end_iso</p><p>retry $retry_after</p></html>'


async def test_fastapi_serves_the_template_with_the_window_end_and_retry() -> None:
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState.scheduled(end=end))
    app = FastAPI()
    app.add_middleware(
        MaintenanceModeMiddleware,
        backend=backend,
        response_handler=fastapi_page("Pause", template=TEMPLATE, lang="de"),
    )

    @app.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    async with client(app) as c:
        response = await c.get("/", headers=CHROME)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    retry = response.headers["retry-after"]
    assert 7190 <= int(retry) <= 7200
    assert response.text == (
        f'<html lang="de"><h1>Pause</h1><p>{end.isoformat()}</p><p>retry {retry}</p></html>'
    )
    assert response.headers["cache-control"] == "no-store"


async def test_litestar_serves_the_template_with_the_stored_retry() -> None:
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState(True, retry_after=120))

    @get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    app = Litestar(
        route_handlers=[index],
        middleware=[
            LitestarMiddleware(
                config=MaintenanceConfig(
                    backend=backend,
                    retry_after=600,
                    response_handler=litestar_page(template=TEMPLATE, lang="fr"),
                )
            )
        ],
    )
    async with client(app) as c:
        response = await c.get("/", headers=CHROME)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert response.text == (
        '<html lang="fr"><h1>Down for maintenance</h1><p></p><p>retry 120</p></html>'
    )
