"""Behaviour behind a real uvicorn server: websocket refusal, root_path, state changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response
from websockets.sync.client import connect

from tests.support.servers import uvicorn_server
from tests.support.waiting import eventually_sync


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    path = tmp_path / "state.txt"
    path.write_text("0")
    return path


@pytest.fixture
def served(state_file: Path) -> Iterator[str]:
    with uvicorn_server(
        "tests.fastapi.apps.served:app", env={"STATE_FILE": str(state_file)}
    ) as url:
        yield url


def test_websocket_handshake_is_refused_with_503_during_maintenance(
    served: str, state_file: Path
) -> None:
    ws_url = served.replace("http://", "ws://")
    with connect(f"{ws_url}/ws") as ws:
        ws.send("ping")
        assert ws.recv() == "ping"

    def refusal() -> Response | None:
        try:
            with connect(f"{ws_url}/ws") as accepted:
                # Still accepted: finish the exchange so the server closes cleanly.
                accepted.send("ping")
                assert accepted.recv() == "ping"
                return None
        except InvalidStatus as refused:
            return refused.response

    # The server's file backend sees the change at its next check (every 0.5 s).
    state_file.write_text("1")
    response = eventually_sync(refusal, lambda r: r is not None, timeout=2.0)
    assert response is not None
    assert response.status_code == 503
    assert dict(response.headers)["retry-after"] == "3600"
    assert b"Service temporarily unavailable due to maintenance" in response.body

    with connect(f"{ws_url}/ws-open") as ws:
        ws.send("ping")
        assert ws.recv() == "open:ping"


def test_http_state_follows_the_file_and_markers_hold(served: str, state_file: Path) -> None:
    with httpx.Client(base_url=served) as c:
        assert c.get("/items").json() == ["a", "b"]
        state_file.write_text("1")
        # The server's file backend sees the change at its next check (every 0.5 s).
        refused = eventually_sync(
            lambda: c.get("/items"), lambda r: r.status_code != 200, timeout=2.0
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "3600"
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/missing").status_code == 404


def test_root_path_from_the_server_does_not_bypass_maintenance(state_file: Path) -> None:
    # Behind a proxy that strips "/api", uvicorn --root-path /api puts "/api/items" in
    # scope["path"] and "/api" in scope["root_path"]; routes match on "/items".
    state_file.write_text("1")
    env = {"STATE_FILE": str(state_file)}
    with (
        uvicorn_server(
            "tests.fastapi.apps.served:app", env=env, args=("--root-path", "/api")
        ) as url,
        httpx.Client(base_url=url) as c,
    ):
        assert c.get("/items").status_code == 503
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/api/items").status_code == 404
