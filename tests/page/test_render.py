"""``render_page`` and ``MaintenancePage``: the markup, escaping and argument checks."""

from __future__ import annotations

import json
import re

import pytest
from fastapi_maintenance.responses import maintenance_page as fastapi_page
from litestar_maintenance.responses import maintenance_page as litestar_page
from maintenance_core import DEFAULT_DETAIL
from maintenance_core.page import DEFAULT_MESSAGE, DEFAULT_TITLE, MaintenancePage, render_page


def test_defaults() -> None:
    page = render_page()
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert '<meta charset="utf-8">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert f"<title>{DEFAULT_TITLE}</title>" in page
    assert f"<h1>{DEFAULT_TITLE}</h1>" in page
    assert f"<p>{DEFAULT_MESSAGE}</p>" in page
    assert DEFAULT_TITLE == "Down for maintenance"
    assert DEFAULT_MESSAGE == "We are doing some maintenance and will be back shortly."
    assert page.count("<main>") == 1
    assert "</main>" in page
    assert "http-equiv" not in page
    assert "refreshes itself" not in page
    assert "<script" not in page


def test_custom_title_and_message() -> None:
    page = render_page("Upgrading", "Back at 14:00 UTC.")
    assert "<title>Upgrading</title>" in page
    assert "<h1>Upgrading</h1>" in page
    assert "<p>Back at 14:00 UTC.</p>" in page
    assert DEFAULT_TITLE not in page
    assert DEFAULT_MESSAGE not in page


def test_title_and_message_are_escaped() -> None:
    page = render_page('<script>alert("t")</script>', "<script>alert('m')</script> & <b>x</b>")
    assert "<script" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#x27;m&#x27;)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in page


def test_refresh_adds_meta_and_sentence() -> None:
    page = render_page(refresh=30)
    assert '<meta http-equiv="refresh" content="30">' in page
    assert "This page refreshes itself every 30 seconds." in page
    assert "every 1 second." in render_page(refresh=1)


@pytest.mark.parametrize("refresh", [0, -5, 1.5, "30", True, False, 30.0])
def test_bad_refresh_is_refused(refresh: object) -> None:
    with pytest.raises(ValueError, match="refresh must be a positive whole number"):
        render_page(refresh=refresh)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refresh must be a positive whole number"):
        fastapi_page(refresh=refresh)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refresh must be a positive whole number"):
        litestar_page(refresh=refresh)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value"), [("title", 3), ("message", b"bytes")])
def test_non_string_text_is_refused(name: str, value: object) -> None:
    with pytest.raises(TypeError, match=f"{name} must be a string or None"):
        MaintenancePage(**{name: value})  # type: ignore[arg-type]


def test_page_is_small_and_has_no_external_resources() -> None:
    page = render_page(refresh=60)
    assert len(page.encode()) < 4096
    assert not re.search(r"\b(src|href)=", page)
    assert "@media (prefers-color-scheme:dark)" in page


def test_maintenance_page_prepares_both_bodies() -> None:
    page = MaintenancePage("T", "M", 10)
    assert page.html == render_page("T", "M", 10).encode()
    assert json.loads(page.json) == {"detail": DEFAULT_DETAIL}
    assert page.status_code == 503
    assert page.html_headers["retry-after"] == "3600"
    assert page.html_headers["cache-control"] == "no-store"
    assert page.json_headers["retry-after"] == "3600"
    assert page.wants_html({"headers": [(b"accept", b"text/html")]})
    assert not page.wants_html({"headers": [(b"accept", b"*/*")]})
