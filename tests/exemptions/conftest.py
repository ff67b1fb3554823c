"""Fixtures for the exemption helpers: the Litestar registry is reset here too
(the FastAPI one is reset by ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import litestar_maintenance
import pytest
from maintenance_core.testing import reset


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LITESTAR_MAINTENANCE_MODE", raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)
