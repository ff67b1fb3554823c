"""Fixtures for the tests against a real ``redis-server``.

Most tests share one server for the session and get an empty database
(``FLUSHALL`` before each test); tests that stop and restart Redis get a
server of their own. A missing ``redis-server`` fails these tests: CI installs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import litestar_maintenance
import pytest
import redis
import redis.asyncio as aioredis
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.testing import reset

from tests.support.redis_server import RedisServer, RedisServerMissingError, find_redis_server

BackendFactory = Callable[..., RedisBackend]

# Coroutines a RedisBackend runs in the background; none may outlive a test.
_BACKGROUND = ("RedisBackend._sync_forever", "RedisLeases._renew")


@pytest.fixture(autouse=True)
def _clean_litestar_registry() -> Iterator[None]:
    # tests/conftest.py resets the FastAPI registry; these tests configure Litestar's too.
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


@pytest.fixture(scope="session")
def redis_executable() -> str:
    try:
        return find_redis_server()
    except RedisServerMissingError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)  # not a skip: CI installs redis-server


@pytest.fixture(scope="session")
def redis_server(
    redis_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    """One server for the session; never stop it in a test (use ``own_redis``)."""
    server = RedisServer(redis_executable, directory=tmp_path_factory.mktemp("redis-session"))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL, with an empty database."""
    assert redis_server.running, "the session redis-server died:\n" + redis_server.log()
    with redis.Redis(host="127.0.0.1", port=redis_server.port) as client:
        client.flushall()
    return redis_server.url


@pytest.fixture
def own_redis(redis_executable: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A server for this test alone, which it may stop and start again."""
    server = RedisServer(redis_executable, directory=tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.close()


def _background_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") in _BACKGROUND
    ]


@pytest.fixture
async def make_backend() -> AsyncIterator[BackendFactory]:
    """Build ``RedisBackend`` instances that are all closed after the test; the test
    then fails if a background task of a backend is still running."""
    created: list[RedisBackend] = []

    def factory(*args: Any, **kwargs: Any) -> RedisBackend:
        backend = RedisBackend(*args, **kwargs)
        created.append(backend)
        return backend

    yield factory
    for backend in created:
        await backend.aclose()
    leaked = _background_tasks()
    for task in leaked:
        task.cancel()
    assert not leaked, f"background tasks still running after aclose(): {leaked}"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client of the session server, to look at and change keys directly."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()
