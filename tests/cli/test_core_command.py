"""``python -m maintenance_core``: the command for plain ASGI apps, with the core's
defaults (``MAINTENANCE_MODE``, ``MAINTENANCE_*`` variables)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import maintenance_core
import pytest

from ._helpers import clean_env, error_line, lines, run, status_json

CORE = "maintenance_core"


def test_version_and_help() -> None:
    assert lines(run(CORE, "--version")) == [f"maintenance-core {maintenance_core.__version__}"]
    shown = run(CORE, "--help", env=clean_env(COLUMNS="200"))
    assert shown.returncode == 0, shown.stderr
    assert "python -m maintenance_core" in shown.stdout
    assert "MAINTENANCE_APP" in shown.stdout


def test_status_reads_maintenance_mode() -> None:
    assert lines(run(CORE, "status")) == ["Maintenance mode is OFF (env: MAINTENANCE_MODE)"]
    env = clean_env(MAINTENANCE_MODE="1")
    assert lines(run(CORE, "status", env=env)) == ["Maintenance mode is ON (env: MAINTENANCE_MODE)"]
    error_line(run(CORE, "on", env=env), "read-only", "MAINTENANCE_MODE")


def test_on_off_and_json_on_a_file_from_the_environment(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(MAINTENANCE_FILE_PATH=state)
    assert lines(run(CORE, "on", env=env)) == [f"Maintenance mode is ON (file: {state})"]
    assert status_json(run(CORE, "status", "--json", env=env))["on_now"] is True
    assert run(CORE, "status", "--exit-code", env=env).returncode == 3
    assert lines(run(CORE, "off", env=env)) == [f"Maintenance mode is OFF (file: {state})"]


async def _get(state: Path) -> int:
    # The same app module, imported here as uvicorn would (its backend reads *state*).
    module = importlib.import_module("tests.cli.apps.asgi_plain")
    module = importlib.reload(module)
    transport = httpx.ASGITransport(app=module.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return (await client.get("/")).status_code


def test_app_finds_the_middleware_of_a_plain_asgi_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert lines(run(CORE, "--app", "asgi_plain:app", "on", env=env)) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    monkeypatch.setenv("CLI_TEST_STATE_FILE", str(state))
    assert anyio.run(_get, state) == 503
    assert lines(run(CORE, "--app", "asgi_plain", "off", env=env)) == [
        f"Maintenance mode is OFF (file: {state})"
    ]
    assert anyio.run(_get, state) == 200


def test_without_typer_the_error_names_the_core_extra() -> None:
    code = (
        "import runpy, sys\n"
        "sys.modules['typer'] = None  # as if the cli extra were not installed\n"
        "runpy.run_module('maintenance_core', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: The python -m maintenance_core command needs typer and rich, which are not "
        "installed: pip install 'maintenance-core[cli]'."
    ]
