"""Shared fixtures: every test starts with the module-level registries reset."""

from __future__ import annotations

from collections.abc import Iterator

import fastapi_maintenance
import pytest
from maintenance_core.testing import reset


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("FASTAPI_MAINTENANCE_MODE", raising=False)
    reset(fastapi_maintenance)
    yield
    reset(fastapi_maintenance)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
