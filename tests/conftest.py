"""Shared fixtures: every test starts with the module-level registries reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi_maintenance._state import registry as fastapi_registry


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("FASTAPI_MAINTENANCE_MODE", raising=False)
    fastapi_registry.reset()
    yield
    fastapi_registry.reset()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
