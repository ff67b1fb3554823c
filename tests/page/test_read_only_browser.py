"""The read-only page in a real headless Chromium, served by a real uvicorn: a page read
during read-only maintenance is served, and the form it submits gets the read-only page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from maintenance_core.page import DEFAULT_READ_ONLY_MESSAGE, DEFAULT_READ_ONLY_TITLE
from maintenance_core.responses import READ_ONLY_DETAIL

from tests.page.test_browser import _chromium
from tests.support.servers import uvicorn_server


def test_a_form_posted_during_read_only_maintenance_gets_the_read_only_page(
    tmp_path: Path,
) -> None:
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    env = {"PAGE_WINDOW_END": end.isoformat()}
    with uvicorn_server("tests.page.apps.read_only_app:app", env=env) as url:
        # The browser reads /form (served: a read) and its script submits the form.
        dom = _chromium(tmp_path, "--dump-dom", f"{url}/form").stdout
        write = httpx.post(f"{url}/items", headers={"accept": "text/html"}, data={"item": "x"})
        api = httpx.post(f"{url}/items", headers={"accept": "application/json"})
        read = httpx.get(f"{url}/form")

    assert "Item added" not in dom
    assert f"<title>{DEFAULT_READ_ONLY_TITLE}</title>" in dom
    assert f"<h1>{DEFAULT_READ_ONLY_TITLE}</h1>" in dom
    assert f"<p>{DEFAULT_READ_ONLY_MESSAGE}</p>" in dom
    assert "Down for the upgrade" not in dom  # the title given is for whole-site maintenance
    assert f'Expected back by <time datetime="{end.isoformat()}">' in dom
    assert '<meta http-equiv="refresh" content="300">' in dom
    assert "<script" not in dom.lower()

    assert write.status_code == 503
    assert write.headers["content-type"] == "text/html; charset=utf-8"
    assert 3 * 3600 - 10 <= int(write.headers["retry-after"]) <= 3 * 3600
    assert api.status_code == 503
    assert api.json() == {"detail": READ_ONLY_DETAIL}
    assert abs(int(api.headers["retry-after"]) - int(write.headers["retry-after"])) <= 1
    assert read.status_code == 200
    assert "document.forms[0].submit()" in read.text
