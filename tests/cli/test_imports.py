"""What the commands import: no web framework unless ``--app`` names an app, and a
missing extra is one error line.

The real console scripts run under ``python -X importtime``, which lists every
module the process imports on its standard error.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ._helpers import FASTAPI, LITESTAR_STANDALONE, clean_env, error_line, run

FRAMEWORKS = ("fastapi", "starlette", "litestar")
NO_REDIS = Path(__file__).parent / "no_redis"


def without_redis(**extra: str) -> dict[str, str]:
    """An environment where ``import redis`` fails (tests/cli/no_redis first on the path)."""
    path = os.pathsep.join(filter(None, [os.fspath(NO_REDIS), os.environ.get("PYTHONPATH")]))
    return clean_env(PYTHONPATH=path, **extra)


def imported_packages(result: subprocess.CompletedProcess[str]) -> set[str]:
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", result.stderr, re.M)
    assert names, result.stderr[-2000:]
    return {name.split(".")[0] for name in names}


def output_without_importtime(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(
        line for line in result.stderr.splitlines() if not line.startswith("import time:")
    )


@pytest.mark.parametrize("script", [FASTAPI, LITESTAR_STANDALONE])
@pytest.mark.parametrize("command", ["status", "on", "off"])
def test_a_file_backend_imports_no_framework(tmp_path: Path, script: Path, command: str) -> None:
    state = tmp_path / "state.txt"
    result = run(
        script,
        command,
        "--backend",
        "file",
        "--file-path",
        state,
        python_options=("-X", "importtime"),
    )
    assert result.returncode == 0, output_without_importtime(result)
    assert result.stdout.startswith("Maintenance mode is ")
    imported = imported_packages(result)
    assert "typer" in imported  # the command did run through the command line
    assert not imported & set(FRAMEWORKS), sorted(imported & set(FRAMEWORKS))


def test_a_redis_backend_and_the_env_backend_import_no_framework(redis_url: str) -> None:
    for args in (("--backend", "redis", "--redis-url", redis_url), ()):
        result = run(FASTAPI, "status", *args, python_options=("-X", "importtime"))
        assert result.returncode == 0, output_without_importtime(result)
        imported = imported_packages(result)
        assert not imported & set(FRAMEWORKS)
        if args:
            assert "redis" in imported


def test_with_an_app_the_framework_is_imported(tmp_path: Path) -> None:
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "state.txt")
    result = run(
        FASTAPI,
        "--app",
        "fastapi_file:app",
        "status",
        env=env,
        python_options=("-X", "importtime"),
    )
    assert result.returncode == 0, output_without_importtime(result)
    assert {"fastapi", "starlette"} <= imported_packages(result)


def test_the_library_still_exports_its_framework_classes() -> None:
    code = (
        "import sys, fastapi_maintenance, litestar_maintenance\n"
        "assert not {'fastapi', 'starlette', 'litestar'} & set(sys.modules)\n"
        "from fastapi_maintenance import *\n"
        "from litestar_maintenance import *\n"
        "print(MaintenanceModeMiddleware.__module__, MaintenancePlugin.__module__,\n"
        "      force_maintenance_mode_on.__module__)\n"
    )
    done = subprocess.run(
        [FASTAPI.parent / "python", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "litestar_maintenance.middleware",
        "litestar_maintenance.plugin",
        "litestar_maintenance.decorators",
    ]


# --- a missing redis extra -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "package"),
    [(FASTAPI, "fastapi-maintenance"), (LITESTAR_STANDALONE, "litestar-maintenance")],
)
def test_a_missing_redis_extra_is_one_line(script: Path, package: str) -> None:
    # tests/cli/no_redis/redis.py stands in for an environment without the redis package.
    env = without_redis()
    line = error_line(run(script, "status", "--backend", "redis", env=env), "redis")
    assert f"pip install '{package}[redis]'" in line


def test_a_missing_redis_extra_in_an_app_is_one_line(tmp_path: Path) -> None:
    env = without_redis(CLI_TEST_REDIS_URL="redis://127.0.0.1:1/0")
    line = error_line(run(FASTAPI, "--app", "fastapi_redis:app", "status", env=env))
    assert "fastapi_redis:app" in line
    assert "redis" in line
