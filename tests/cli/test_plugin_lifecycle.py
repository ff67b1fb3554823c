"""``MaintenancePlugin`` closes the backend its app uses when the app shuts down,
after the app's own shutdown hooks, which still see it."""

from __future__ import annotations

import time
from pathlib import Path

import litestar_maintenance
import redis
from litestar import Litestar, get
from litestar.testing import TestClient
from litestar_maintenance import MaintenanceConfig, MaintenancePlugin
from litestar_maintenance.backends import LocalFileBackend, MemoryBackend, RedisBackend

from tests.support.redis_server import RedisServer


@get("/")
async def index() -> str:
    return "hello"


def _connections(client: redis.Redis) -> int:
    return len(client.client_list())


def test_a_redis_backend_is_closed_at_shutdown(redis_server: RedisServer, redis_url: str) -> None:
    with redis.Redis(host="127.0.0.1", port=redis_server.port) as raw:
        before = _connections(raw)
        backend = RedisBackend(redis_url)
        app = Litestar(
            [index], plugins=[MaintenancePlugin(config=MaintenanceConfig(backend=backend))]
        )
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
            # The backend follows changes: a client and a subscription of its own.
            deadline = time.monotonic() + 5
            while raw.pubsub_numsub("maintenance_mode:changed")[0][1] != 1:
                assert time.monotonic() < deadline, "the backend never subscribed"
                time.sleep(0.01)  # polling a server-side count, not synchronisation
            assert _connections(raw) > before
        assert raw.pubsub_numsub("maintenance_mode:changed")[0][1] == 0
        deadline = time.monotonic() + 5
        while _connections(raw) != before:
            assert time.monotonic() < deadline, raw.client_list()
            time.sleep(0.01)


class RecordingBackend(MemoryBackend):
    """A memory backend that records when it is closed."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def aclose(self) -> None:
        self.events.append("closed")


def test_the_backend_is_closed_after_the_apps_own_shutdown_hooks() -> None:
    events: list[str] = []
    backend = RecordingBackend(events)

    async def on_shutdown() -> None:
        events.append(f"hook sees {await litestar_maintenance.get_maintenance_mode()}")

    app = Litestar([index], plugins=[MaintenancePlugin(backend=backend)], on_shutdown=[on_shutdown])
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert events == []
    assert events == ["hook sees False", "closed"]


def test_backend_is_the_configured_default_without_a_backend_of_its_own(
    tmp_path: Path,
) -> None:
    plugin = MaintenancePlugin()
    assert plugin.backend.describe() == "env: LITESTAR_MAINTENANCE_MODE"
    # configure_backend() takes effect whenever it is called, as for the requests.
    litestar_maintenance.configure_backend("file", file_path=tmp_path / "state.txt")
    assert isinstance(plugin.backend, LocalFileBackend)
    assert plugin.backend.describe() == f"file: {tmp_path / 'state.txt'}"
