"""What a fastapi-maintenance 0.0.5 user relies on, kept by both adapters.

Each test is a habit of a 0.0.5 user: toggling the variable with
``monkeypatch.setenv``, a typo in it, calling ``configure_backend()`` late,
configuring the ``fastapi_maintenance`` logger, importing the CLI's ``app``,
and star-importing the backends without the ``redis`` extra.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastapi_maintenance
import httpx
import litestar_maintenance
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import EnvVarBackend
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from litestar_maintenance import MaintenancePlugin
from maintenance_core.testing import reset

from tests.support.servers import ROOT

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _clean_litestar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LITESTAR_MAINTENANCE_MODE", raising=False)
    reset(litestar_maintenance)
    yield
    reset(litestar_maintenance)


def fastapi_app(**options: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def index() -> dict[str, bool]:
        return {"maintenance": await fastapi_maintenance.get_maintenance_mode()}

    app.add_middleware(MaintenanceModeMiddleware, **options)
    return app


def fastapi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def litestar_app(**options: Any) -> Litestar:
    @get("/", opt={"maintenance_mode": "off"})
    async def index() -> dict[str, bool]:
        return {"maintenance": await litestar_maintenance.get_maintenance_mode()}

    @get("/work")
    async def work() -> str:
        return "done"

    return Litestar([index, work], plugins=[MaintenancePlugin(**options)])


# --- the variable is read on every read ------------------------------------------------


async def test_fastapi_setenv_between_requests_is_seen_on_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fastapi_client(fastapi_app()) as client:
        assert (await client.get("/")).status_code == 200
        monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "1")
        assert (await client.get("/")).status_code == 503
        monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "0")
        assert (await client.get("/")).json() == {"maintenance": False}
        monkeypatch.delenv("FASTAPI_MAINTENANCE_MODE")
        assert (await client.get("/")).status_code == 200


async def test_litestar_setenv_between_requests_is_seen_on_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with AsyncTestClient(litestar_app()) as client:
        assert (await client.get("/work")).status_code == 200
        monkeypatch.setenv("LITESTAR_MAINTENANCE_MODE", "on")
        assert (await client.get("/work")).status_code == 503
        assert (await client.get("/")).json() == {"maintenance": True}
        monkeypatch.setenv("LITESTAR_MAINTENANCE_MODE", "off")
        assert (await client.get("/work")).status_code == 200


# --- an unrecognised value never raises out of a read ----------------------------------


async def test_a_bad_value_reads_as_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "maybe")
    with caplog.at_level(logging.WARNING):
        assert await EnvVarBackend().get_value() is False
        assert await fastapi_maintenance.get_maintenance_mode() is False
        async with fastapi_client(fastapi_app()) as client:
            response = await client.get("/")
    assert response.status_code == 200
    assert response.json() == {"maintenance": False}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings, "a bad value is reported"
    assert all("FASTAPI_MAINTENANCE_MODE" in r.getMessage() for r in warnings)
    assert all("maybe" not in r.getMessage() for r in warnings)


def test_cli_status_with_a_bad_value_reports_off() -> None:
    env = {**os.environ, "FASTAPI_MAINTENANCE_MODE": "maybe"}
    result = subprocess.run(
        [sys.executable, "-m", "fastapi_maintenance", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "OFF" in result.stdout
    assert "Traceback" not in result.stderr
    assert "FASTAPI_MAINTENANCE_MODE" in result.stderr  # the warning names the variable


# --- configure_backend() takes effect whenever it is called ----------------------------


async def test_fastapi_configure_backend_after_the_first_request(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    async with fastapi_client(fastapi_app()) as client:
        assert (await client.get("/")).status_code == 200
        fastapi_maintenance.configure_backend("file", file_path=str(path))
        await fastapi_maintenance.set_maintenance_mode(True)
        assert path.read_text() == "1"
        assert await fastapi_maintenance.get_maintenance_mode() is True
        assert (await client.get("/")).status_code == 503
        await fastapi_maintenance.set_maintenance_mode(False)
        assert (await client.get("/")).json() == {"maintenance": False}


async def test_litestar_configure_backend_after_the_first_request(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    async with AsyncTestClient(litestar_app()) as client:
        assert (await client.get("/work")).status_code == 200
        litestar_maintenance.configure_backend("file", file_path=str(path))
        await litestar_maintenance.set_maintenance_mode(True)
        assert path.read_text() == "1"
        assert (await client.get("/work")).status_code == 503
        assert (await client.get("/")).json() == {"maintenance": True}


async def test_an_explicit_backend_is_not_replaced_by_configure_backend(tmp_path: Path) -> None:
    from fastapi_maintenance.backends import MemoryBackend

    async with fastapi_client(fastapi_app(backend=MemoryBackend(True))) as client:
        assert (await client.get("/")).status_code == 503
        fastapi_maintenance.configure_backend("file", file_path=str(tmp_path / "s.txt"))
        assert (await client.get("/")).status_code == 503


async def test_a_middleware_without_backend_built_last_hands_scripts_the_configured_one(
    tmp_path: Path,
) -> None:
    from fastapi_maintenance.backends import LocalFileBackend

    own = tmp_path / "a.txt"
    configured = tmp_path / "b.txt"
    app_a = fastapi_app(backend=LocalFileBackend(own))
    app_b = fastapi_app()  # built after A, without a backend
    async with fastapi_client(app_a) as a, fastapi_client(app_b) as b:
        assert (await a.get("/")).status_code == 200  # both apps are built now
        assert (await b.get("/")).status_code == 200
        fastapi_maintenance.configure_backend("file", file_path=str(configured))
        await fastapi_maintenance.set_maintenance_mode(True)  # outside any request
        # As in 0.0.5: the latest middleware had no backend, so the configured one is set.
        assert configured.read_text() == "1"
        assert not own.exists()
        assert (await b.get("/")).status_code == 503
        assert (await a.get("/")).status_code == 200


# --- logging under the installed package's name ----------------------------------------


class Collected(logging.Handler):
    """What a user's handler on the package logger receives."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def package_logger() -> Iterator[Collected]:
    handlers = Collected(), Collected()
    loggers = logging.getLogger("fastapi_maintenance"), logging.getLogger("litestar_maintenance")
    for logger, handler in zip(loggers, handlers, strict=True):
        logger.addHandler(handler)
    yield handlers[0]
    for logger, handler in zip(loggers, handlers, strict=True):
        logger.removeHandler(handler)


@pytest.fixture
def litestar_logger(package_logger: Collected) -> Collected:
    handler = logging.getLogger("litestar_maintenance").handlers[-1]
    assert isinstance(handler, Collected)
    return handler


async def test_fastapi_records_reach_the_fastapi_maintenance_logger(
    tmp_path: Path, package_logger: Collected
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("garbage")
    fastapi_maintenance.configure_backend("file", file_path=str(path))
    async with fastapi_client(fastapi_app()) as client:
        # The state error is the middleware's to handle; the endpoint's own read raises.
        response = await client.get("/health-of-nothing")
    assert response.status_code == 404
    errors = [r for r in package_logger.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "fastapi_maintenance.decision"


async def test_litestar_records_reach_the_litestar_maintenance_logger(
    tmp_path: Path, litestar_logger: Collected
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("garbage")
    litestar_maintenance.configure_backend("file", file_path=str(path))
    async with AsyncTestClient(litestar_app()) as client:
        assert (await client.get("/work")).status_code == 200
    errors = [r for r in litestar_logger.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "litestar_maintenance.decision"


async def test_env_warning_outside_a_request_reaches_the_adapter_logger(
    monkeypatch: pytest.MonkeyPatch, package_logger: Collected
) -> None:
    monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "nope")
    assert await EnvVarBackend().get_value() is False
    assert [r.name for r in package_logger.records] == ["fastapi_maintenance.backends"]


# --- the CLI's app and shell completion ------------------------------------------------


def test_cli_app_is_the_typer_application() -> None:
    import typer
    from fastapi_maintenance.cli import app
    from typer.testing import CliRunner

    assert isinstance(app, typer.Typer)
    result = CliRunner().invoke(app, ["--help"], prog_name="fastapi-maintenance")
    assert result.exit_code == 0
    assert "--install-completion" in result.output
    # As a user runs it: the console script prints the bash completion script.
    script = Path(sys.executable).parent / "fastapi-maintenance"
    shown = subprocess.run(
        [str(script), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SHELL": "/bin/bash"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "_FASTAPI_MAINTENANCE_COMPLETE" in shown.stdout


# --- star import without the redis extra -----------------------------------------------


@pytest.mark.parametrize("package", ["fastapi_maintenance", "litestar_maintenance"])
def test_star_import_of_backends_works_without_redis(package: str) -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"  # as if the redis extra were not installed
        f"from {package}.backends import *\n"
        "print(sorted(n for n in dir() if n.endswith('Backend')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "EnvVarBackend" in result.stdout
    assert "LocalFileBackend" in result.stdout
    assert "BaseStateBackend" in result.stdout
