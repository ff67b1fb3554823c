"""``examples/events_webhook.py``: a real uvicorn running the example, a real
redis-server, the real command line in another process, and a chat webhook on
loopback that records what it is sent."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.servers import uvicorn_server

DEADLINE = 10.0  # seconds; only a guard against hangs


class ChatWebhook:
    """An HTTP server on loopback that keeps the JSON bodies posted to it."""

    def __init__(self) -> None:
        posts = self.posts = []  # type: list[dict[str, Any]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                posts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/maintenance"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + DEADLINE
        while len(self.posts) < count:
            assert time.monotonic() < deadline, f"{len(self.posts)} posts: {self.posts}"
            time.sleep(0.01)  # polling interval, not synchronisation
        return self.posts


@pytest.fixture
def webhook() -> Iterator[ChatWebhook]:
    hook = ChatWebhook()
    hook.thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


def cli(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "fastapi_maintenance", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_the_team_is_told_of_changes_made_elsewhere(redis_url: str, webhook: ChatWebhook) -> None:
    env = {"CHAT_WEBHOOK_URL": webhook.url, "REDIS_URL": redis_url, "CHAT_ANNOUNCER": "1"}
    with uvicorn_server(
        "events_webhook:app", env=env, args=("--app-dir", "examples", "--lifespan", "on")
    ) as base:
        assert httpx.get(f"{base}/").status_code == 200
        cli("on", "--backend", "redis", "--redis-url", redis_url, "--end", "2099-01-01T12:00Z")
        first = webhook.wait_for(1)[0]
        # The app learnt of the change through pub/sub, without a request.
        assert first == {
            "text": "Maintenance is ON until 2099-01-01 12:00 UTC. Switched by the fleet "
            f"(redis: {redis_url} key maintenance_mode)."
        }
        assert httpx.get(f"{base}/").status_code == 503

        cli("off", "--backend", "redis", "--redis-url", redis_url)
        second = webhook.wait_for(2)[1]
        assert second["text"].startswith(
            "Maintenance is OFF: the app is back. Switched by the fleet"
        )
        assert httpx.get(f"{base}/").status_code == 200
    assert len(webhook.posts) == 2


def test_a_chat_that_is_down_never_breaks_the_app(redis_url: str) -> None:
    env = {
        "CHAT_WEBHOOK_URL": "http://127.0.0.1:9/unreachable",  # the discard port: refused
        "REDIS_URL": redis_url,
        "CHAT_ANNOUNCER": "1",
    }
    with uvicorn_server(
        "events_webhook:app", env=env, args=("--app-dir", "examples", "--lifespan", "on")
    ) as base:
        cli("on", "--backend", "redis", "--redis-url", redis_url)
        deadline = time.monotonic() + DEADLINE
        while httpx.get(f"{base}/").status_code != 503:
            assert time.monotonic() < deadline
        cli("off", "--backend", "redis", "--redis-url", redis_url)
        deadline = time.monotonic() + DEADLINE
        while httpx.get(f"{base}/").status_code != 200:
            assert time.monotonic() < deadline
