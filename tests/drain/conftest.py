"""Fixtures for the drain tests: the session ``redis-server`` of the Redis tests."""

from __future__ import annotations

from tests.redis.conftest import raw, redis_executable, redis_server, redis_url

__all__ = ["raw", "redis_executable", "redis_server", "redis_url"]
