"""Fixtures for the exemption helpers: the Litestar registry is reset here too
(the FastAPI one is reset by ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar_maintenance._state import registry as litestar_registry


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LITESTAR_MAINTENANCE_MODE", raising=False)
    litestar_registry.reset()
    yield
    litestar_registry.reset()
