"""Fixtures for the command line tests.

The tests run the installed console scripts (``fastapi-maintenance``,
``litestar-maintenance``, ``litestar``, ``python -m maintenance_core``) in
subprocesses, against the small apps of ``tests/cli/apps``, real state files and
the session's real ``redis-server`` (the fixtures of tests/redis/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import litestar_maintenance
import pytest
from maintenance_core.testing import reset

from tests.redis.conftest import make_backend, raw, redis_executable, redis_server, redis_url

__all__ = ["make_backend", "raw", "redis_executable", "redis_server", "redis_url"]


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LITESTAR_MAINTENANCE_MODE", raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)
