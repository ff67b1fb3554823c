"""Errors about a missing extra name the package the user installed: a Litestar user is
told to install ``litestar-maintenance[redis]``, never ``fastapi-maintenance[redis]``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.servers import ROOT

PACKAGES = {
    "fastapi_maintenance": ("fastapi-maintenance", "litestar-maintenance"),
    "litestar_maintenance": ("litestar-maintenance", "fastapi-maintenance"),
}


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert lines, result
    return lines[-1]


@pytest.mark.parametrize("package", PACKAGES)
def test_configure_backend_redis_without_the_extra(package: str) -> None:
    ours, other = PACKAGES[package]
    result = run(
        "import sys; sys.modules['redis'] = None\n"  # as if the redis extra were not installed
        f"import {package}\n"
        f"{package}.configure_backend('redis', url='redis://localhost:6379/0')\n"
    )
    assert result.returncode != 0
    line = last_line(result)
    assert "ExtraNotInstalledError" in line, result.stderr
    assert f"pip install '{ours}[redis]'" in line
    assert other not in result.stderr
    # Still an ImportError for code that expects one.
    caught = run(
        "import sys; sys.modules['redis'] = None\n"
        f"import {package}\n"
        "try:\n"
        f"    {package}.configure_backend('redis')\n"
        "except ImportError:\n"
        "    print('caught')\n"
    )
    assert caught.stdout.strip() == "caught", caught.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_redis_backend_without_the_extra(package: str) -> None:
    ours, other = PACKAGES[package]
    result = run(
        f"import sys; sys.modules['redis'] = None\nfrom {package}.backends import RedisBackend\n"
    )
    assert result.returncode != 0
    line = last_line(result)
    assert f"pip install '{ours}[redis]'" in line
    assert other not in result.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_console_script_without_the_cli_extra(package: str) -> None:
    ours, other = PACKAGES[package]
    result = run(
        f"import sys; sys.modules['typer'] = None\nfrom {package}.cli import main\nmain()\n"
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert f"pip install '{ours}[cli]'" in lines[0]
    assert other not in lines[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_cli_redis_backend_without_the_extra(package: str) -> None:
    ours, other = PACKAGES[package]
    result = run(
        "import sys; sys.modules['redis'] = None\n"
        f"sys.argv = ['{ours}', 'status', '--backend', 'redis']\n"
        f"from {package}.cli import main\nmain()\n"
    )
    assert result.returncode == 1
    line = last_line(result)
    assert f"'{ours}[redis]'" in line, result.stderr
    assert other not in line


def test_the_redis_backend_still_works_with_the_extra() -> None:
    result = run(
        "import litestar_maintenance.backends as b\n"
        "from maintenance_core.backends.redis import RedisBackend\n"
        "print(b.RedisBackend is RedisBackend)\n"
    )
    assert result.stdout.strip() == "True", result.stderr
