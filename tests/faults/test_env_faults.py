"""A garbage value in ``FASTAPI_MAINTENANCE_MODE`` under the default backend.

Documented (docs/backends.md, "Environment variable"): an unrecognised value is
logged once as an error and maintenance is treated as off. The variable is read
once, at the first read, so the fault goes away only with a restart (here: a
new app, as a new process would build).
"""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance._state import registry

from .support import library_records, problem_with, shown

pytestmark = pytest.mark.anyio

VARIABLE = "FASTAPI_MAINTENANCE_MODE"
REQUESTS = 50


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware)  # the default: the environment variable

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    return app


async def _statuses(app: FastAPI, count: int) -> list[int]:
    statuses = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        for _ in range(count):
            response = await http.get("/items")
            problem = problem_with(response.status_code, response.headers, response.content)
            assert problem is None, problem
            statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize(
    ("value", "named"),
    [
        pytest.param("garbage", "'garbage'", id="word"),
        pytest.param("2", "'2'", id="number"),
        pytest.param("on please", "'on please'", id="sentence"),
        pytest.param("\u2713", "'\u2713'", id="non-ascii"),
        # The JSON form may carry the bypass secret's digests: it is described, not shown.
        pytest.param('{"on": "yes"}', "a JSON object of 13 characters", id="bad-json"),
        # A long value is shown cut short.
        pytest.param("x" * 5_000, "'" + "x" * 50, id="very-long"),
    ],
)
async def test_a_garbage_value_means_off_and_is_logged_once(
    value: str, named: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="maintenance_core")
    monkeypatch.setenv(VARIABLE, value)
    app = _app()

    assert await _statuses(app, REQUESTS) == [200] * REQUESTS
    records = library_records(caplog)
    assert len(records) == 1, shown(records)
    [record] = records
    message = record.getMessage()
    assert record.levelno == logging.ERROR, shown(records)
    assert VARIABLE in message, message
    assert "InvalidStateValueError" in message, message
    assert named in message, message
    assert message.endswith("using the default: maintenance is off."), message
    assert len(message) < 1_000, f"{len(message)} characters"

    # Read once: repairing the variable in this process changes nothing, and logs nothing.
    monkeypatch.setenv(VARIABLE, "1")
    assert await _statuses(app, 5) == [200] * 5
    assert len(library_records(caplog)) == 1, shown(library_records(caplog))

    # A restart reads the repaired value, without any log line. (The default backend
    # lives in the adapter's registry, one per process: forget it, as a new process would.)
    registry.reset()
    caplog.clear()
    assert await _statuses(_app(), 5) == [503] * 5
    assert library_records(caplog) == [], shown(library_records(caplog))
