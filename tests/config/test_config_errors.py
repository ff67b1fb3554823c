"""Bad configuration fails early, at startup or at the call, with an error that says how
to fix it; and what the middleware serves while the state cannot be read is a choice."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import fastapi_maintenance
import litestar_maintenance
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend, MemoryBackend
from litestar import Litestar, get
from litestar.testing import TestClient as LitestarTestClient
from litestar_maintenance import MaintenancePlugin
from maintenance_core import MaintenanceGuard
from maintenance_core.errors import StateWriteError, UnknownBackendError
from maintenance_core.generic import GenericAdapter
from maintenance_core.state import MaintenanceState

from tests.support.servers import ROOT


class BrokenBackend(MemoryBackend):
    """A backend whose reads fail after it has served *good_reads* of them."""

    def __init__(self, value: bool, good_reads: int = 0) -> None:
        super().__init__(value)
        self.good_reads = good_reads

    async def get_state(self) -> MaintenanceState:
        if self.good_reads <= 0:
            raise ConnectionError("state store unreachable")
        self.good_reads -= 1
        return await super().get_state()


def fastapi_app(**options: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def index() -> dict[str, str]:
        return {"app": "answer"}

    app.add_middleware(MaintenanceModeMiddleware, **options)
    return app


@get("/")
async def litestar_index() -> dict[str, str]:
    return {"app": "answer"}


# --- errors at construction / startup ---------------------------------------------------------


def two_arguments(request: object, extra: object) -> bool:
    return True


def no_arguments() -> bool:
    return True


@pytest.mark.parametrize("handler", [two_arguments, no_arguments])
@pytest.mark.parametrize("name", ["exempt_handler", "response_handler"])
def test_handler_that_cannot_take_the_request_fails_at_startup(handler: Any, name: str) -> None:
    app = fastapi_app(**{name: handler})
    with pytest.raises(TypeError, match=f"{name} must take exactly one argument"):  # noqa: SIM117
        with TestClient(app):  # Starlette builds its middleware at startup
            pass


@pytest.mark.parametrize("name", ["exempt_handler", "response_handler"])
def test_litestar_plugin_rejects_a_handler_that_cannot_take_the_request(name: str) -> None:
    with pytest.raises(TypeError, match=f"{name} must take exactly one argument"):
        MaintenancePlugin(**{name: two_arguments})


def test_handlers_with_defaults_or_varargs_are_accepted_and_used() -> None:
    def with_default(request: object, flag: bool = True) -> bool:
        return flag

    def with_varargs(*args: object) -> bool:
        return len(args) == 1

    for handler in (with_default, with_varargs, lambda request: True):
        guard = MaintenanceGuard(
            adapter=GenericAdapter(),
            backend=MemoryBackend(),
            enable_maintenance=True,
            exempt_handler=handler,
        )
        # Accepted at construction, and called with the request: it exempts it.
        assert anyio.run(_status, guard) == 200, handler


async def _status(guard: MaintenanceGuard) -> int:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await guard.handle(scope, receive, send, app)
    return int(sent[0]["status"])


@pytest.mark.parametrize("policy", ["last-known", "ON", "", None])
def test_unknown_on_state_error_fails_at_construction(policy: Any) -> None:
    with pytest.raises(ValueError, match="on_state_error must be one of 'last_known', 'on', 'off'"):
        MaintenancePlugin(on_state_error=policy)


def test_unknown_backend_name_names_the_choices() -> None:
    with pytest.raises(UnknownBackendError, match="choose one of 'env', 'file', 'redis'"):
        fastapi_maintenance.configure_backend("postgres")
    with pytest.raises(UnknownBackendError, match="choose one of 'env', 'file', 'redis'"):
        litestar_maintenance.configure_backend("postgres")


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "redis//x"])
def test_invalid_redis_url_fails_at_configure_time(url: str) -> None:
    with pytest.raises(
        ValueError, match=r"Invalid Redis URL .* use e\.g\. 'redis://localhost:6379/0'"
    ):
        fastapi_maintenance.configure_backend("redis", url=url)


def test_unexpected_backend_argument_is_a_type_error_at_configure_time() -> None:
    with pytest.raises(TypeError):
        fastapi_maintenance.configure_backend("file", path="x.txt")


# --- errors at the call ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unwritable_state_path_fails_at_set_maintenance_mode(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "state.txt"
    backend = LocalFileBackend(missing)
    with pytest.raises(StateWriteError) as info:
        await fastapi_maintenance.set_maintenance_mode(True, backend)
    message = str(info.value)
    assert str(missing) in message
    assert "Check that the directory exists" in message
    assert not missing.parent.exists()
    assert await fastapi_maintenance.get_maintenance_mode(backend) is False


def test_unwritable_state_path_fails_in_the_cli_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "state.txt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastapi_maintenance",
            "on",
            "--backend",
            "file",
            "--file-path",
            str(missing),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: Cannot write the maintenance state to ")
    assert lines[0].count("Cannot write") == 1
    assert "Check that the directory exists" in lines[0]


# --- what is served while the state cannot be read ----------------------------------------------


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("policy", "before", "during"),
    [
        ("last_known", True, 503),
        ("last_known", False, 200),
        ("on", False, 503),
        ("off", True, 200),
    ],
)
def test_on_state_error_decides_what_is_served(
    policy: Any, before: bool, during: int, caplog: pytest.LogCaptureFixture
) -> None:
    backend = BrokenBackend(before, good_reads=1)
    app = fastapi_app(backend=backend, on_state_error=policy)
    with TestClient(app) as client, caplog.at_level(logging.WARNING, logger="maintenance_core"):
        assert client.get("/").status_code == (503 if before else 200)  # the one good read
        statuses = {client.get("/").status_code for _ in range(20)}
        assert statuses == {during}
        backend.good_reads = 100  # the store answers again
        assert client.get("/").status_code == (503 if before else 200)
    logged = errors(caplog)
    assert len(logged) == 1, logged
    assert "state store unreachable" in logged[0]
    assert f"maintenance is {'on' if during == 503 else 'off'}" in logged[0]
    recovered = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("readable again" in line for line in recovered)


@pytest.mark.parametrize(("policy", "during"), [("last_known", 200), ("on", 503), ("off", 200)])
def test_on_state_error_with_no_state_ever_read(policy: Any, during: int) -> None:
    app = Litestar(
        route_handlers=[litestar_index],
        plugins=[MaintenancePlugin(backend=BrokenBackend(True), on_state_error=policy)],
    )
    with LitestarTestClient(app) as client:
        assert {client.get("/").status_code for _ in range(5)} == {during}


def test_response_handler_returning_a_non_response_is_served_the_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = fastapi_app(
        enable_maintenance=True, response_handler=lambda request: {"not": "a response"}
    )
    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="maintenance_core"):
        response = client.get("/")
    assert response.status_code == 503
    assert response.json() == {"detail": "Service temporarily unavailable due to maintenance"}
    logged = errors(caplog)
    assert len(logged) == 1
    assert "returned 'dict', which is not a response" in logged[0]
