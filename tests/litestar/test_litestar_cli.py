"""The ``litestar-maintenance`` console script.

Its implementation is shared with ``fastapi-maintenance`` and tested there; these
tests check what is Litestar's own: the script is installed, reads
``LITESTAR_MAINTENANCE_MODE`` by default, and writes a state file a Litestar app reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from litestar import Litestar, get
from litestar.testing import TestClient
from litestar_maintenance import MaintenancePlugin
from litestar_maintenance.backends import LocalFileBackend

from .helpers import ENV_VAR, assert_maintenance

SCRIPT = Path(sys.executable).parent / "litestar-maintenance"


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script not installed at {SCRIPT}"
    clean = {
        name: value
        for name, value in os.environ.items()
        if name not in (ENV_VAR, "FASTAPI_MAINTENANCE_MODE", "FORCE_COLOR", "COLUMNS")
    }
    return subprocess.run(
        [os.fspath(SCRIPT), *args],
        env={**clean, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_status_reads_the_litestar_variable_by_default() -> None:
    on = run_cli("status", **{ENV_VAR: "1", "FASTAPI_MAINTENANCE_MODE": "0"})
    assert on.returncode == 0, on.stderr
    assert on.stdout == f"Maintenance mode is ON (env: {ENV_VAR})\n"

    off = run_cli("status", FASTAPI_MAINTENANCE_MODE="1")
    assert off.returncode == 0, off.stderr
    assert off.stdout == f"Maintenance mode is OFF (env: {ENV_VAR})\n"


def test_on_off_round_trip_on_a_file_seen_by_an_app(tmp_path: Path) -> None:
    state_file = tmp_path / "maintenance.txt"

    @get("/")
    async def index() -> str:
        return "hello"

    app = Litestar([index], plugins=[MaintenancePlugin(backend=LocalFileBackend(state_file))])
    file_args = ("--backend", "file", "--file-path", os.fspath(state_file))
    with TestClient(app) as client:
        assert client.get("/").status_code == 200

        on = run_cli("on", *file_args)
        assert on.returncode == 0, on.stderr
        assert state_file.read_text(encoding="utf-8") == "1"
        assert run_cli("status", *file_args).stdout.startswith("Maintenance mode is ON (file: ")
        assert_maintenance(client.get("/"))

        off = run_cli("off", *file_args)
        assert off.returncode == 0, off.stderr
        assert state_file.read_text(encoding="utf-8") == "0"
        assert run_cli("status", *file_args).stdout.startswith("Maintenance mode is OFF (file: ")
        assert client.get("/").text == "hello"


def test_on_refuses_the_read_only_env_backend() -> None:
    result = run_cli("on")
    assert result.returncode == 1
    assert ENV_VAR in result.stderr
    assert "read-only" in result.stderr
