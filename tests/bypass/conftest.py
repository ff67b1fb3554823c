"""Fixtures of the bypass tests: both registries reset, a framework parameter, secrets.

``tests/conftest.py`` resets the FastAPI registry; the Litestar one is reset here.
Each test also gets a fresh memo of stored keys and a KDF budget without limit
(tests that check the budget install their own).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator

import litestar_maintenance
import pytest
from maintenance_core import bypass as bypass_module
from maintenance_core.bypass import BypassKey, KdfBudget
from maintenance_core.testing import reset

from .apps import FRAMEWORKS

# 32 characters of token_urlsafe's alphabet: the same once percent-encoded.
SECRET = "Kq7vR2xN9pLm4sT8wY1zB6cD3fG5hJ0a"
OTHER_SECRET = "Zx0cV9bN8mA7sD6fG5hJ4kL3qW2eR1tY"


def cookie_for(secret: str = SECRET, *, issued: int | None = None, age: int = 0) -> str:
    """A valid cookie of the app given ``bypass_secret=secret``: issued at *issued*,
    else *age* seconds ago."""
    when = int(time.time()) - age if issued is None else issued
    cookie = BypassKey.from_secret(secret).cookie(secret.encode(), when)
    assert cookie is not None
    return cookie


def stored_cookie(stored: str, secret: str, *, issued: int | None = None, age: int = 0) -> str:
    """A valid cookie for the secret stored as *stored* (what that app's redirect sets)."""
    when = int(time.time()) - age if issued is None else issued
    cookie = BypassKey.from_hash(stored).cookie(secret.encode(), when)
    assert cookie is not None
    return cookie


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LITESTAR_MAINTENANCE_MODE", raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


@pytest.fixture(autouse=True)
def _fresh_bypass_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bypass_module, "_stored_keys", OrderedDict())
    monkeypatch.setattr(bypass_module, "_kdf_budget", KdfBudget(burst=10**9, per_second=1e9))


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)
