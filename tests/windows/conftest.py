"""Fixtures for the maintenance-window tests.

tests/conftest.py resets the FastAPI registry and its environment variable; the
window tests drive Litestar's module-level functions too, so its registry and
variable are reset here. The real ``redis-server`` fixtures are those of
tests/redis/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import litestar_maintenance
import pytest
from maintenance_core.testing import reset

from tests.redis.conftest import make_backend, raw, redis_executable, redis_server, redis_url

from ._helpers import ENV_VARS, FLAVORS, Flavor

__all__ = ["make_backend", "raw", "redis_executable", "redis_server", "redis_url"]


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENV_VARS.values():
        monkeypatch.delenv(name, raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


@pytest.fixture(params=FLAVORS)
def flavor(request: pytest.FixtureRequest) -> Flavor:
    """Run the test with the FastAPI adapter and with the Litestar adapter."""
    value: Flavor = request.param
    return value
