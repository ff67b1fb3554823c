"""Fixtures shared by the fault tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer, RedisServerMissingError, find_redis_server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, on a free loopback port, which the test may
    kill and start again (same port, same data directory)."""
    try:
        executable = find_redis_server()
    except RedisServerMissingError as exc:
        pytest.fail(str(exc), pytrace=False)  # not a skip: CI installs redis-server
    server = RedisServer(executable, directory=tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.close()
