"""Every option that takes a value also comes from an environment variable
(``FASTAPI_MAINTENANCE_*``, ``LITESTAR_MAINTENANCE_*``, ``MAINTENANCE_*``), the
command line winning; ``--backend`` is a choice; help shows the variables and
examples; usage errors are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._helpers import FASTAPI, LITESTAR_STANDALONE, clean_env, error_line, lines, run

SCRIPTS = {"FASTAPI": FASTAPI, "LITESTAR": LITESTAR_STANDALONE}


@pytest.mark.parametrize("prefix", ["FASTAPI", "LITESTAR"])
def test_the_file_backend_from_the_environment(tmp_path: Path, prefix: str) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(
        **{f"{prefix}_MAINTENANCE_BACKEND": "file", f"{prefix}_MAINTENANCE_FILE_PATH": state}
    )
    script = SCRIPTS[prefix]
    assert lines(run(script, "on", env=env)) == [f"Maintenance mode is ON (file: {state})"]
    assert lines(run(script, "status", env=env)) == [f"Maintenance mode is ON (file: {state})"]
    # The file path alone chooses the file backend.
    env = clean_env(**{f"{prefix}_MAINTENANCE_FILE_PATH": state})
    assert lines(run(script, "off", env=env)) == [f"Maintenance mode is OFF (file: {state})"]


def test_the_var_name_and_window_from_the_environment() -> None:
    env = clean_env(FASTAPI_MAINTENANCE_VAR_NAME="SHOP_DOWN", SHOP_DOWN="1")
    assert lines(run(FASTAPI, "status", env=env)) == ["Maintenance mode is ON (env: SHOP_DOWN)"]


def test_window_options_from_the_environment(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(FASTAPI_MAINTENANCE_FILE_PATH=state, FASTAPI_MAINTENANCE_FOR="2h")
    out = lines(run(FASTAPI, "on", env=env))
    assert out[1].startswith("Window: open until ")
    assert "(1h59m left)" in out[1] or "(2h00m left)" in out[1]


def test_a_redis_password_in_the_environment_stays_off_the_command_line_and_output(
    redis_url: str,
) -> None:
    url = redis_url.replace("redis://", "redis://default:s3cret-pass@")
    env = clean_env(FASTAPI_MAINTENANCE_REDIS_URL=url)
    result = run(FASTAPI, "on", env=env)
    out = lines(result)
    assert out == [
        f"Maintenance mode is ON (redis: {url.replace('s3cret-pass', '***')} key maintenance_mode)"
    ]
    assert "s3cret-pass" not in result.stdout + result.stderr
    lines(run(FASTAPI, "off", env=env))


def test_the_command_line_chooses_over_the_environment(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    # A backend and path set in the environment, another backend chosen on the command line:
    # the variables of the other backend are not this call's business.
    env = clean_env(
        FASTAPI_MAINTENANCE_BACKEND="file",
        FASTAPI_MAINTENANCE_FILE_PATH=state,
        FASTAPI_MAINTENANCE_MODE="0",
    )
    assert lines(run(FASTAPI, "status", "--backend", "env", env=env)) == [
        "Maintenance mode is OFF (env: FASTAPI_MAINTENANCE_MODE)"
    ]
    other = tmp_path / "other.txt"
    assert lines(run(FASTAPI, "status", "--file-path", other, env=env)) == [
        f"Maintenance mode is OFF (file: {other})"
    ]
    # A file backend from the environment without a path names the variable.
    env = clean_env(FASTAPI_MAINTENANCE_BACKEND="file")
    error_line(run(FASTAPI, "status", env=env), "FASTAPI_MAINTENANCE_FILE_PATH")


def test_a_bad_backend_in_the_environment_is_one_line() -> None:
    env = clean_env(FASTAPI_MAINTENANCE_BACKEND="consul")
    error_line(run(FASTAPI, "status", env=env), "FASTAPI_MAINTENANCE_BACKEND", "'consul'", code=2)


def test_help_shows_choices_variables_and_examples() -> None:
    status_help = run(FASTAPI, "status", "--help", env=clean_env(COLUMNS="200"))
    assert status_help.returncode == 0, status_help.stderr
    text = status_help.stdout
    assert "env|file|redis" in text
    for variable in (
        "FASTAPI_MAINTENANCE_BACKEND",
        "FASTAPI_MAINTENANCE_FILE_PATH",
        "FASTAPI_MAINTENANCE_REDIS_URL",
        "FASTAPI_MAINTENANCE_VAR_NAME",
    ):
        assert variable in text
    assert "Examples:" in text
    assert "fastapi-maintenance --app main:app status" in text
    on_help = run(FASTAPI, "on", "--help", env=clean_env(COLUMNS="200")).stdout
    for fragment in ("FASTAPI_MAINTENANCE_SECRET", "--with-secret", "hidden prompt", "Examples:"):
        assert fragment in on_help
    root_help = run(LITESTAR_STANDALONE, "--help", env=clean_env(COLUMNS="200")).stdout
    assert "LITESTAR_MAINTENANCE_APP" in root_help
    assert "litestar-maintenance --app main:app on --for 30m --with-secret" in root_help


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("status", "--bogus"), "--bogus"),
        (("stats",), "stats"),
        (("on", "--for"), "--for"),
        (("status", "--backend", "consul"), "'consul'"),
        (("on", "--retry", "soon"), "--retry"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(args: tuple[str, ...], fragment: str) -> None:
    line = error_line(run(FASTAPI, *args), fragment, code=2)
    assert "--help" in line
