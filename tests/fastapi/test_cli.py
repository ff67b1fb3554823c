"""The ``fastapi-maintenance`` command line.

Most tests run the installed console script in a subprocess, with a clean
environment and state files under ``tmp_path``; a few drive the typer app
in-process with ``CliRunner``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import anyio
import fastapi_maintenance
import pytest
from fastapi_maintenance.backends import EnvVarBackend, LocalFileBackend, MemoryBackend
from fastapi_maintenance.cli import create_app
from maintenance_core import BackendRegistry
from maintenance_core.cli import build_cli
from typer.testing import CliRunner

SCRIPT = Path(sys.executable).parent / "fastapi-maintenance"
ENV_VAR = "FASTAPI_MAINTENANCE_MODE"

# Variables that would make rich colour or resize its output.
_STYLE_VARS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE", "COLUMNS")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STYLE_VARS and k != ENV_VAR}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run_cli(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script not installed at {SCRIPT}"
    return subprocess.run(
        [os.fspath(SCRIPT), *map(os.fspath, args)],
        env=_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_status(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == expected + "\n"


def assert_error(result: subprocess.CompletedProcess[str], *fragments: str, code: int = 1) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: ")
    assert line.strip() != "Error:"
    for fragment in fragments:
        assert fragment in line
    return line


def file_value(path: Path) -> bool:
    return anyio.run(LocalFileBackend(path).get_value)


# --- version and help -------------------------------------------------------------


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"fastapi-maintenance {fastapi_maintenance.__version__}\n"
    assert result.stderr == ""


def test_no_arguments_prints_help() -> None:
    result = run_cli()
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    for command in ("status", "on", "off"):
        assert command in result.stdout


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fastapi_maintenance", "--version"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"fastapi-maintenance {fastapi_maintenance.__version__}\n"


# --- status with the env backend --------------------------------------------------


def test_status_env_unset_is_off() -> None:
    assert_status(run_cli("status"), "Maintenance mode is OFF (env: FASTAPI_MAINTENANCE_MODE)")


@pytest.mark.parametrize("value", ["1", "ON"])
def test_status_env_on(value: str) -> None:
    result = run_cli("status", env=_env(FASTAPI_MAINTENANCE_MODE=value))
    assert_status(result, "Maintenance mode is ON (env: FASTAPI_MAINTENANCE_MODE)")


def test_status_env_zero_is_off() -> None:
    result = run_cli("status", "--backend", "env", env=_env(FASTAPI_MAINTENANCE_MODE="0"))
    assert_status(result, "Maintenance mode is OFF (env: FASTAPI_MAINTENANCE_MODE)")


def test_status_env_custom_var_name() -> None:
    env = _env(MY_MAINT="1", FASTAPI_MAINTENANCE_MODE="0")
    assert_status(
        run_cli("status", "--var-name", "MY_MAINT", env=env),
        "Maintenance mode is ON (env: MY_MAINT)",
    )
    # The default variable is not read when another one is named.
    env = _env(FASTAPI_MAINTENANCE_MODE="1")
    assert_status(
        run_cli("status", "--backend", "env", "--var-name", "MY_MAINT", env=env),
        "Maintenance mode is OFF (env: MY_MAINT)",
    )


# --- status with the file backend -------------------------------------------------


def test_status_file_missing_is_off(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    result = run_cli("status", "--backend", "file", "--file-path", path)
    assert_status(result, f"Maintenance mode is OFF (file: {path})")
    assert not path.exists()


@pytest.mark.parametrize(("content", "word"), [("1", "ON"), ("0", "OFF")])
def test_status_file(tmp_path: Path, content: str, word: str) -> None:
    path = tmp_path / "state.txt"
    path.write_text(content, encoding="utf-8")
    result = run_cli("status", "--backend", "file", "--file-path", path)
    assert_status(result, f"Maintenance mode is {word} (file: {path})")


def test_status_line_is_plain_and_never_wrapped(tmp_path: Path) -> None:
    """No colour codes, no markup read from the path, no wrapping at a narrow width."""
    directory = tmp_path / "[bold]markup[/bold]" / ("long-" * 30)
    directory.mkdir(parents=True)
    path = directory / "state.txt"
    path.write_text("1", encoding="utf-8")
    env = _env(COLUMNS="20")
    del env["NO_COLOR"]
    result = run_cli("status", "--backend", "file", "--file-path", path, env=env)
    assert_status(result, f"Maintenance mode is ON (file: {path})")
    assert "\x1b" not in result.stdout


# --- on / off ---------------------------------------------------------------------


def test_on_off_round_trip_on_file(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"

    result = run_cli("on", "--backend", "file", "--file-path", path)
    assert_status(result, f"Maintenance mode is ON (file: {path})")
    assert path.read_text(encoding="utf-8") == "1"
    assert file_value(path) is True
    assert_status(
        run_cli("status", "--backend", "file", "--file-path", path),
        f"Maintenance mode is ON (file: {path})",
    )

    result = run_cli("off", "--backend", "file", "--file-path", path)
    assert_status(result, f"Maintenance mode is OFF (file: {path})")
    assert path.read_text(encoding="utf-8") == "0"
    assert file_value(path) is False

    # Switching to the current state again is fine.
    assert_status(
        run_cli("off", "--backend", "file", "--file-path", path),
        f"Maintenance mode is OFF (file: {path})",
    )
    assert path.read_text(encoding="utf-8") == "0"


def test_on_replaces_invalid_content(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("garbage", encoding="utf-8")
    assert_status(
        run_cli("on", "--backend", "file", "--file-path", path),
        f"Maintenance mode is ON (file: {path})",
    )
    assert path.read_text(encoding="utf-8") == "1"


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["status", "on"])
def test_error_file_backend_without_path(command: str) -> None:
    assert_error(run_cli(command, "--backend", "file"), "--file-path")


@pytest.mark.parametrize("command", ["status", "off"])
def test_error_unknown_backend(command: str) -> None:
    # --backend is a choice: the parser refuses it, a usage error (exit code 2) in one line.
    line = assert_error(
        run_cli(command, "--backend", "consul"), "'consul'", "'env'", "'file'", "'redis'", code=2
    )
    assert f"fastapi-maintenance {command} --help" in line


@pytest.mark.parametrize(
    "args",
    [("on",), ("off", "--backend", "env", "--var-name", "MY_MAINT")],
)
def test_error_read_only_env_backend(args: tuple[str, ...]) -> None:
    line = assert_error(run_cli(*args, env=_env(FASTAPI_MAINTENANCE_MODE="1", MY_MAINT="1")))
    assert "read-only" in line


def test_invalid_env_value_is_reported_off_with_a_warning() -> None:
    # As in 0.0.5: a bad variable is a warning and reads as off, never an error.
    result = run_cli("status", env=_env(FASTAPI_MAINTENANCE_MODE="maybe"))
    assert result.returncode == 0, result.stderr
    assert "Maintenance mode is OFF" in result.stdout
    assert "FASTAPI_MAINTENANCE_MODE" in result.stderr
    assert "maybe" not in result.stderr


def test_error_invalid_file_value(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("maybe\nnot\n", encoding="utf-8")
    result = run_cli("status", "--backend", "file", "--file-path", path)
    assert_error(result, "Invalid maintenance state value")


def test_error_unwritable_path(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "state.txt"
    for command in ("on", "off"):
        result = run_cli(command, "--backend", "file", "--file-path", path)
        assert_error(result, "Cannot write", str(path))
    assert not path.parent.exists()


def test_error_unreadable_path(tmp_path: Path) -> None:
    # A directory cannot be read as the state file.
    result = run_cli("status", "--backend", "file", "--file-path", tmp_path)
    assert_error(result, "Cannot read", str(tmp_path))


def test_error_option_of_another_backend(tmp_path: Path) -> None:
    assert_error(
        run_cli("status", "--backend", "env", "--file-path", tmp_path / "x.txt"), "--file-path"
    )
    assert_error(
        run_cli("status", "--backend", "file", "--file-path", tmp_path / "x", "--var-name", "V"),
        "--var-name",
    )
    # Without --backend, options of two backends are ambiguous.
    assert_error(
        run_cli("status", "--file-path", tmp_path / "x", "--redis-url", "redis://localhost/0"),
        "--file-path",
        "--redis-url",
        "--backend",
    )


def test_an_option_of_one_backend_chooses_it(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    assert_status(run_cli("status", "--file-path", path), f"Maintenance mode is ON (file: {path})")


# --- without the cli extra --------------------------------------------------------


def test_missing_typer_gives_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "typer", None)
    monkeypatch.delitem(sys.modules, "maintenance_core.cli")
    with pytest.raises(ImportError, match=r"fastapi-maintenance\[cli\]"):
        importlib.import_module("maintenance_core.cli")


def test_console_script_without_typer_prints_one_error_line() -> None:
    code = (
        "import sys; sys.modules['typer'] = None\n"
        "from fastapi_maintenance.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_error(result, "fastapi-maintenance[cli]")


def test_library_does_not_import_typer() -> None:
    code = "import sys, maintenance_core, fastapi_maintenance; print('typer' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"


# --- in-process with CliRunner ----------------------------------------------------


def test_in_process_status_and_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    app = create_app()
    monkeypatch.setenv(ENV_VAR, "1")

    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    assert result.stdout == "Maintenance mode is ON (env: FASTAPI_MAINTENANCE_MODE)\n"

    result = runner.invoke(app, ["on"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "read-only" in result.stderr


def test_build_cli_is_generic() -> None:
    """Another adapter's registry, prog name, version and extra backend names."""

    class OtherEnv(EnvVarBackend):
        default_var_name = "OTHER_MAINTENANCE_MODE"

    memory = MemoryBackend()
    registry = BackendRegistry("other", OtherEnv, {"memory": lambda: memory})
    app = build_cli("other-maintenance", "9.8.7", registry)
    runner = CliRunner()

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == "other-maintenance 9.8.7\n"

    result = runner.invoke(app, ["status"], env={"OTHER_MAINTENANCE_MODE": "yes"})
    assert result.stdout == "Maintenance mode is ON (env: OTHER_MAINTENANCE_MODE)\n"

    result = runner.invoke(app, ["on", "--backend", "memory"])
    assert result.exit_code == 0
    assert result.stdout == "Maintenance mode is ON (memory)\n"
    assert anyio.run(memory.get_value) is True

    result = runner.invoke(app, ["status", "--backend", "nope"])
    assert result.exit_code == 2  # a choice, refused by the parser
    assert "'env', 'file', 'redis', 'memory'" in " ".join(result.output.split())


# --- hostile input: still one line --------------------------------------------------------


@pytest.mark.parametrize("duration", ["9999999999d", "99999999999999999999999999d", "10001y"])
def test_an_absurd_duration_is_one_error_line(tmp_path: Path, duration: str) -> None:
    path = tmp_path / "state.txt"
    result = run_cli("on", "--backend", "file", "--file-path", path, "--for", duration)
    assert_error(result, "--for")
    assert not path.exists()


def test_a_deeply_nested_stored_state_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    depth = 30_000  # under the 64 KiB cap, far over the JSON parser's recursion limit
    path.write_text('{"on": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    line = assert_error(run_cli("status", "--backend", "file", "--file-path", path))
    assert "Invalid maintenance state value" in line
    assert "[[[" not in line  # described, never repeated


def test_a_symlink_to_a_file_of_secrets_is_never_echoed(tmp_path: Path) -> None:
    secrets_file = tmp_path / ".env"
    secrets_file.write_text("DATABASE_PASSWORD=hunter2-correct-horse\n", encoding="utf-8")
    path = tmp_path / "state.txt"
    path.symlink_to(secrets_file)
    line = assert_error(run_cli("status", "--backend", "file", "--file-path", path))
    assert "hunter2" not in line
    assert "DATABASE_PASSWORD" not in line
