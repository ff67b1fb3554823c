"""The demo app (examples/demo_app.py), served by a real uvicorn process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.servers import uvicorn_server
from tests.support.waiting import eventually_sync


@dataclass
class DemoServer:
    client: httpx.Client
    state_file: Path


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    state_file = tmp_path / "demo_state.txt"
    with (
        uvicorn_server(
            "demo_app:app",
            env={"DEMO_MAINTENANCE_FILE": str(state_file)},
            args=("--app-dir", "examples"),
        ) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield DemoServer(client=client, state_file=state_file)


def test_demo_app_maintenance_cycle(demo: DemoServer) -> None:
    client = demo.client

    # Off at start: no state file yet.
    assert client.get("/").status_code == 200
    assert client.get("/admin/maintenance").json()["maintenance_mode"] is False

    # On through the admin endpoint, which writes the state file.
    response = client.post("/admin/maintenance/on")
    assert response.status_code == 200
    assert response.json()["maintenance_mode"] is True
    assert demo.state_file.read_text(encoding="utf-8").strip() == "1"

    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json() == {"detail": "Service temporarily unavailable due to maintenance"}
    assert client.get("/items/3").status_code == 503

    # Forced off, docs and unknown paths.
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert client.get("/admin/maintenance").json()["maintenance_mode"] is True
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/no-such-page").status_code == 404

    # Another process (the CLI) writes the file: the app sees it at its next file
    # check (every 0.5 s by default), without a restart.
    demo.state_file.write_text("0", encoding="utf-8")
    back = eventually_sync(lambda: client.get("/"), lambda r: r.status_code != 503, timeout=2.0)
    assert back.status_code == 200
    assert client.get("/admin/maintenance").json()["maintenance_mode"] is False

    # And the admin pair round-trips.
    assert client.post("/admin/maintenance/on").status_code == 200
    assert client.get("/").status_code == 503
    response = client.post("/admin/maintenance/off")
    assert response.status_code == 200
    assert response.json()["maintenance_mode"] is False
    assert demo.state_file.read_text(encoding="utf-8").strip() == "0"
    assert client.get("/").status_code == 200


def test_demo_app_forced_on_route(demo: DemoServer) -> None:
    response = demo.client.get("/legacy")
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert demo.client.get("/").status_code == 200


SECRET = "demo-team-secret-not-for-production"


def test_demo_app_operator_features(demo: DemoServer) -> None:
    client = demo.client
    assert client.post("/admin/maintenance/on", params={"minutes": 5}).status_code == 200
    assert '"end"' in demo.state_file.read_text(encoding="utf-8")

    # API clients: the documented JSON, with Retry-After counting down to the window's end.
    refused = client.get("/")
    assert refused.status_code == 503
    assert refused.json() == {"detail": "Service temporarily unavailable due to maintenance"}
    assert 280 <= int(refused.headers["retry-after"]) <= 300

    # Browsers: the page, showing the window's end.
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert "Expected back by" in page.text

    # The team: the header, or the link that sets a cookie.
    assert client.get("/", headers={"X-Maintenance-Bypass": SECRET}).status_code == 200
    assert client.get("/", headers={"X-Maintenance-Bypass": SECRET[:-1] + "x"}).status_code == 503
    link = client.get("/items/3", params={"maintenance_bypass": SECRET})
    assert link.status_code == 302
    assert link.headers["location"] == "./3"
    assert SECRET not in link.headers["set-cookie"]
    assert client.get("/items/3").status_code == 200  # the client's cookie jar sends it
    client.cookies.clear()
    assert client.get("/items/3").status_code == 503
