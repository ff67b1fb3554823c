"""Fixtures of the bypass tests: both registries reset, a framework parameter, secrets.

``tests/conftest.py`` resets the FastAPI registry; the Litestar one is reset here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import litestar_maintenance
import pytest
from maintenance_core.bypass import make_cookie_value
from maintenance_core.testing import reset

from .apps import FRAMEWORKS

# 32 characters of token_urlsafe's alphabet: the same once percent-encoded.
SECRET = "Kq7vR2xN9pLm4sT8wY1zB6cD3fG5hJ0a"
OTHER_SECRET = "Zx0cV9bN8mA7sD6fG5hJ4kL3qW2eR1tY"


def cookie_for(secret: str = SECRET, *, expires: int | None = None, ttl: int = 600) -> str:
    """A valid bypass cookie value for *secret*: until *expires*, else *ttl* seconds from now."""
    return make_cookie_value(
        secret.encode(), int(time.time()) + ttl if expires is None else expires
    )


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LITESTAR_MAINTENANCE_MODE", raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)
