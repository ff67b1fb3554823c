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
    "value",
    [
        pytest.param("garbage", id="word"),
        pytest.param("2", id="number"),
        pytest.param("on please", id="sentence"),
        pytest.param("\u2713", id="non-ascii"),
        pytest.param('{"on": "yes"}', id="bad-json"),
        pytest.param("x" * 5_000, id="very-long"),
    ],
)
async def test_a_garbage_value_means_off_and_is_logged_once(
    value: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fastapi_maintenance")
    monkeypatch.setenv(VARIABLE, value)
    app = _app()

    assert await _statuses(app, REQUESTS) == [200] * REQUESTS
    records = library_records(caplog)
    assert len(records) == 1, shown(records)
    [record] = records
    message = record.getMessage()
    assert record.levelno == logging.WARNING, shown(records)
    assert VARIABLE in message, message
    assert value not in message, message  # the environment may hold secrets: never echoed
    assert message.endswith("Maintenance mode is off until it is fixed."), message
    assert len(message) < 1_000, f"{len(message)} characters"

    # The variable is read on every request, as in 0.0.5: the repair is seen at once,
    # without any log line.
    caplog.clear()
    monkeypatch.setenv(VARIABLE, "1")
    assert await _statuses(app, 5) == [503] * 5
    assert library_records(caplog) == [], shown(library_records(caplog))
