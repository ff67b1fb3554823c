"""Running the real commands in subprocesses, with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

APPS = Path(__file__).parent / "apps"
BIN = Path(sys.executable).parent
FASTAPI = BIN / "fastapi-maintenance"
LITESTAR_STANDALONE = BIN / "litestar-maintenance"
LITESTAR = BIN / "litestar"

# Variables that would change what the commands read or how rich prints.
_PREFIXES = ("FASTAPI_MAINTENANCE_", "LITESTAR_MAINTENANCE_", "MAINTENANCE_", "LITESTAR_APP")
_STYLE_VARS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE", "COLUMNS")


def clean_env(**extra: str | os.PathLike[str]) -> dict[str, str]:
    """The test's environment without any maintenance variable or colour setting, plus *extra*."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_PREFIXES) and name not in _STYLE_VARS
    }
    env["NO_COLOR"] = "1"
    env.update({name: os.fspath(value) for name, value in extra.items()})
    return env


def run(
    command: Path | str,
    *args: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    cwd: Path = APPS,
    stdin: str | None = None,
    python_options: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run a console script (a path in the venv's bin) or ``python -m <module>`` (a str)."""
    if isinstance(command, Path):
        assert command.exists(), f"console script not installed at {command}"
        argv = [os.fspath(command)]
        if python_options:
            argv = [sys.executable, *python_options, os.fspath(command)]
    else:
        argv = [sys.executable, *python_options, "-m", command]
    return subprocess.run(
        [*argv, *(os.fspath(arg) for arg in args)],
        env=clean_env() if env is None else env,
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The command succeeded (exit code 0), quiet on stderr; its stdout lines."""
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert result.stderr == "", result.stderr
    return result.stdout.splitlines()


def error_line(result: subprocess.CompletedProcess[str], *fragments: str, code: int = 1) -> str:
    """The command failed with *code* and exactly one ``Error: ...`` line, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.stdout == "", result.stdout
    found = result.stderr.splitlines()
    assert len(found) == 1, result.stderr
    line = found[0]
    assert line.startswith("Error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def status_json(result: subprocess.CompletedProcess[str], code: int = 0) -> dict[str, Any]:
    """The one JSON object ``status --json`` printed."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stdout.count("\n") == 1, result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data
