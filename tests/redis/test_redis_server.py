"""The test helper itself: a redis-server that stops and comes back on the same port."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer, ping


def test_stop_and_start_again_on_the_same_port(redis_executable: str, tmp_path: Path) -> None:
    server = RedisServer(redis_executable, directory=tmp_path)
    try:
        server.start()
        port = server.port
        assert server.running
        assert ping(port)
        with pytest.raises(RuntimeError, match="already running"):
            server.start()

        server.stop()
        assert not server.running
        assert not ping(port)

        server.start()
        assert (server.port, server.url) == (port, f"redis://127.0.0.1:{port}/0")
        assert ping(port)

        server.kill()
        assert not ping(port)
        server.start()
        assert ping(port)
    finally:
        server.close()
    assert not ping(port)
    assert "Ready to accept connections" in server.log()


def test_a_taken_fixed_port_is_reported(redis_executable: str, tmp_path: Path) -> None:
    with RedisServer(redis_executable, directory=tmp_path / "a") as first:
        second = RedisServer(redis_executable, port=first.port, directory=tmp_path / "b")
        with pytest.raises(RuntimeError, match="is taken"):
            second.start()
        assert not second.running
        assert ping(first.port)
