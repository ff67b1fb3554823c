"""Fixtures for the Litestar adapter tests: a clean registry and environment for every test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import litestar_maintenance
import pytest
from maintenance_core.testing import reset

from .helpers import ENV_VAR, AppFactory, build_app


@pytest.fixture(autouse=True)
def _clean_litestar_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


@pytest.fixture(params=["plugin", "middleware"])
def make_app(request: pytest.FixtureRequest) -> AppFactory:
    """Build an app with ``MaintenancePlugin`` or with ``MaintenanceModeMiddleware``:
    every test using it must behave the same both ways."""
    mode: str = request.param

    def factory(*args: object, **kwargs: object) -> object:
        return build_app(mode, *args, **kwargs)  # type: ignore[arg-type]

    return factory  # type: ignore[return-value]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def log_records() -> Iterator[list[logging.LogRecord]]:
    """Records of the adapter's and the core's loggers.

    ``caplog`` does not see them: a Litestar app applies its logging config when it
    starts, which replaces the root logger's handlers, caplog's included.
    """
    handler = _ListHandler()
    loggers = [logging.getLogger(name) for name in ("litestar_maintenance", "maintenance_core")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)
