"""``fastapi-maintenance --app module:attr``: the command acts on the backend the app uses.

The apps are real modules (tests/cli/apps) imported by the real console script;
the round trip checks a real uvicorn server serving the same app.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis

from tests.support.servers import uvicorn_server

from ._helpers import APPS, FASTAPI, clean_env, error_line, lines, run, status_json

APP_MODULE = "tests.cli.apps"


def test_status_reads_the_backend_of_the_apps_middleware(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state)

    assert lines(run(FASTAPI, "--app", "fastapi_file:app", "status", env=env)) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    # Without --app, the command reads its own default (the env backend): that was the bug.
    assert lines(run(FASTAPI, "status", env=env)) == [
        "Maintenance mode is OFF (env: FASTAPI_MAINTENANCE_MODE)"
    ]


def test_the_app_comes_from_the_environment_too(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state, FASTAPI_MAINTENANCE_APP="fastapi_file:app")
    assert lines(run(FASTAPI, "status", env=env)) == [f"Maintenance mode is ON (file: {state})"]


def test_app_after_the_command_and_app_dir(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state)
    expected = [f"Maintenance mode is ON (file: {state})"]
    assert lines(run(FASTAPI, "status", "--app", "fastapi_file:app", env=env)) == expected
    # From another directory: --app-dir, or the dotted path from the repository root.
    assert (
        lines(
            run(
                FASTAPI, "--app-dir", APPS, "--app", "fastapi_file", "status", env=env, cwd=tmp_path
            )
        )
        == expected
    )
    root = APPS.parents[2]
    result = run(FASTAPI, "--app", f"{APP_MODULE}.fastapi_file:app", "status", env=env, cwd=root)
    assert lines(result) == expected


def test_on_and_off_switch_a_running_server(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    with uvicorn_server(
        f"{APP_MODULE}.fastapi_file:app", env={"CLI_TEST_STATE_FILE": str(state)}
    ) as url:
        assert httpx.get(url + "/").status_code == 200

        turned_on = run(FASTAPI, "--app", "fastapi_file:app", "on", "--for", "30m", env=env)
        assert lines(turned_on)[0] == f"Maintenance mode is ON (file: {state})"
        response = httpx.get(url + "/")
        assert response.status_code == 503
        assert 1790 <= int(response.headers["retry-after"]) <= 1800

        assert lines(run(FASTAPI, "--app", "fastapi_file:app", "off", env=env)) == [
            f"Maintenance mode is OFF (file: {state})"
        ]
        assert httpx.get(url + "/").status_code == 200


def test_a_middleware_without_backend_follows_the_backend_configured_at_import(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert lines(run(FASTAPI, "--app", "fastapi_configured:app", "on", env=env)) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    assert state.read_text(encoding="utf-8") == "1"


def test_an_app_without_the_middleware_uses_the_configured_default(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert lines(run(FASTAPI, "--app", "fastapi_bare:app", "status", env=env)) == [
        f"Maintenance mode is ON (file: {state})"
    ]


def test_an_app_that_fixes_the_state_says_so(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert lines(run(FASTAPI, "--app", "fastapi_fixed:app", "status", env=env)) == [
        f"Maintenance mode is OFF (file: {state})",
        "The app fixes maintenance ON (enable_maintenance=True): it does not read this state",
    ]
    data = status_json(run(FASTAPI, "--app", "fastapi_fixed:app", "status", "--json", env=env))
    assert data["fixed_by_app"] is True
    assert data["maintenance"] is False


def test_what_the_app_prints_at_import_stays_out_of_the_json(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    result = run(FASTAPI, "--app", "fastapi_noisy:app", "status", "--json", env=env)
    assert status_json(result)["backend"] == f"file: {state}"
    assert "connecting to the database" in result.stderr


def test_a_redis_app(tmp_path: Path, redis_url: str) -> None:
    env = clean_env(CLI_TEST_REDIS_URL=redis_url)
    where = f"(redis: {redis_url} key maintenance_mode)"
    assert lines(run(FASTAPI, "--app", "fastapi_redis:app", "on", env=env)) == [
        f"Maintenance mode is ON {where}"
    ]
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with redis.Redis(host="127.0.0.1", port=port) as client:
        assert client.get("maintenance_mode") == b"1"
    assert lines(run(FASTAPI, "--app", "fastapi_redis:app", "off", env=env)) == [
        f"Maintenance mode is OFF {where}"
    ]


# --- errors: one line each ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "fragments"),
    [
        ("no_such_module:app", ("'no_such_module:app'", "no module named 'no_such_module'")),
        ("fastapi_file:application", ("no attribute 'application'",)),
        ("fastapi_broken:app", ("'fastapi_broken:app'", "KeyError")),
        ("fastapi_bad_config:app", ("on_state_error",)),
        ("not a path", ("module:attribute",)),
        ("os:sep", ("not an ASGI app",)),
    ],
)
def test_an_app_that_cannot_be_used_is_one_error_line(
    tmp_path: Path, app: str, fragments: tuple[str, ...]
) -> None:
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "state.txt")
    error_line(run(FASTAPI, "--app", app, "status", env=env), *fragments)


def test_app_and_backend_options_together_are_refused(tmp_path: Path) -> None:
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "state.txt")
    error_line(
        run(FASTAPI, "--app", "fastapi_file:app", "status", "--backend", "env", env=env),
        "--app",
        "--backend",
        "not both",
    )


def test_the_command_line_wins_over_the_environment(tmp_path: Path) -> None:
    """An app from the environment gives way to backend options on the command line,
    and backend options from the environment give way to --app on the command line."""
    app_state = tmp_path / "app.txt"
    app_state.write_text("1", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("0", encoding="utf-8")

    env = clean_env(CLI_TEST_STATE_FILE=app_state, FASTAPI_MAINTENANCE_APP="fastapi_file:app")
    assert lines(run(FASTAPI, "status", "--file-path", other, env=env)) == [
        f"Maintenance mode is OFF (file: {other})"
    ]
    env = clean_env(CLI_TEST_STATE_FILE=app_state, FASTAPI_MAINTENANCE_FILE_PATH=other)
    assert lines(run(FASTAPI, "--app", "fastapi_file:app", "status", env=env)) == [
        f"Maintenance mode is ON (file: {app_state})"
    ]
    # Both from the environment: ambiguous.
    env = clean_env(
        CLI_TEST_STATE_FILE=app_state,
        FASTAPI_MAINTENANCE_APP="fastapi_file:app",
        FASTAPI_MAINTENANCE_FILE_PATH=other,
    )
    error_line(
        run(FASTAPI, "status", env=env),
        "FASTAPI_MAINTENANCE_APP",
        "FASTAPI_MAINTENANCE_FILE_PATH",
        "not both",
    )
