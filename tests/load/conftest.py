"""Fixtures for the load tests: the state store (a file, or a key on a real
``redis-server``), parametrized so that every test runs on both backends.

The Redis server is the session one of ``tests/redis/conftest.py``; its fixtures
are imported here, so ``pytest tests/load`` works on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.helpers import StateStore, file_store, redis_store
from tests.redis.conftest import redis_executable, redis_server, redis_url

__all__ = ["redis_executable", "redis_server", "redis_url", "store"]


@pytest.fixture(params=["file", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    """Where the app under test keeps its state, maintenance off to begin with."""
    if request.param == "file":
        path = tmp_path / "maintenance_mode.txt"
        path.write_text("0")
        return file_store(path)
    url = request.getfixturevalue("redis_url")  # an empty database
    return redis_store(url, "load:maintenance")
