"""The real ``redis-server`` fixtures of tests/redis, for the fleet events."""

from __future__ import annotations

from tests.redis.conftest import (
    make_backend,
    own_redis,
    raw,
    redis_executable,
    redis_server,
    redis_url,
)

__all__ = ["make_backend", "own_redis", "raw", "redis_executable", "redis_server", "redis_url"]
