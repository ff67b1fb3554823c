"""A page template of the user's own, in a real headless Chromium served by a real uvicorn:
the window end, the countdown, the French sentences and ``lang``, and an injected tag
that stays text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from tests.page.test_browser import _chromium
from tests.support.servers import uvicorn_server


def test_dump_dom_of_a_french_template_during_a_window(tmp_path: Path) -> None:
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    env = {"PAGE_WINDOW_END": end.isoformat()}
    with uvicorn_server("tests.page.apps.template_app:app", env=env) as url:
        dom = _chromium(tmp_path, "--dump-dom", f"{url}/").stdout

    assert '<html lang="fr">' in dom
    assert '<main id="page">' in dom
    # The title's tag stayed text: no <img> element, so its onerror never ran.
    assert "<img" not in dom
    assert "<title>En maintenance &lt;img src=x" in dom
    assert "pwned" not in dom.split("<title>", 1)[0]
    assert '<p id="message">Nous serons bientôt de retour &amp; plus rapides.</p>' in dom
    assert (
        f'<p>Retour prévu le <time datetime="{end.isoformat()}">'
        f"{end.strftime('%d/%m/%Y à %H:%M UTC')}</time>.</p>" in dom
    )
    retry = dom.split('<p id="retry">Réessayez dans ', 1)[1].split(" secondes.", 1)[0]
    assert abs(int(retry) - 3 * 3600) <= 5, retry
    assert '<p id="price">Prix : 5 $</p>' in dom
    assert '<meta http-equiv="refresh" content="120">' in dom


def test_the_template_answers_api_clients_with_json(tmp_path: Path) -> None:
    with uvicorn_server("tests.page.apps.template_app:app") as url:
        response = httpx.get(f"{url}/", headers={"accept": "application/json"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert 7190 <= int(response.headers["retry-after"]) <= 7200
