"""``litestar --app app:app maintenance status|on|off``: ``MaintenancePlugin`` is a
Litestar CLI plugin acting on the backend of the app Litestar loads.

The real ``litestar`` command loads the real app modules of tests/cli/apps; the
round trip checks a uvicorn server serving the same app. These tests also run on
the oldest supported Litestar (2.15).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis
from litestar.plugins import CLIPluginProtocol
from litestar_maintenance import MaintenancePlugin
from litestar_maintenance.backends import LocalFileBackend

from tests.support.servers import uvicorn_server

from ._helpers import LITESTAR, LITESTAR_STANDALONE, clean_env, error_line, lines, run, status_json


def maintenance(app: str, *args: str, env: dict[str, str]) -> list[str]:
    return lines(run(LITESTAR, "--app", app, "maintenance", *args, env=env))


def test_status_reads_the_plugins_backend(tmp_path: Path) -> None:
    """The report: an app in maintenance on a file backend was 'OFF' for the command."""
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert maintenance("litestar_file:app", "status", env=env) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    assert lines(run(LITESTAR_STANDALONE, "status", env=env)) == [
        "Maintenance mode is OFF (env: LITESTAR_MAINTENANCE_MODE)"
    ]


def test_litestar_app_from_its_own_variable(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state, LITESTAR_APP="litestar_file:app")
    assert lines(run(LITESTAR, "maintenance", "status", env=env)) == [
        f"Maintenance mode is ON (file: {state})"
    ]


def test_on_and_off_switch_a_running_server(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    server_env = {"CLI_TEST_STATE_FILE": str(state)}
    with uvicorn_server("tests.cli.apps.litestar_file:app", env=server_env) as url:
        assert httpx.get(url + "/").status_code == 200

        turned_on = maintenance(
            "litestar_file:app", "on", "--for", "30m", "--retry", "120", env=env
        )
        assert turned_on[0] == f"Maintenance mode is ON (file: {state})"
        assert turned_on[1].startswith("Window: open until ")
        response = httpx.get(url + "/")
        assert response.status_code == 503

        assert maintenance("litestar_file:app", "off", env=env) == [
            f"Maintenance mode is OFF (file: {state})"
        ]
        assert httpx.get(url + "/").status_code == 200


def test_a_plugin_without_backend_follows_the_backend_configured_at_import(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert maintenance("litestar_configured:app", "on", env=env) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    assert state.read_text(encoding="utf-8") == "1"


def test_a_redis_backend(redis_url: str) -> None:
    env = clean_env(CLI_TEST_REDIS_URL=redis_url)
    where = f"(redis: {redis_url} key maintenance_mode)"
    assert maintenance("litestar_redis:app", "on", env=env) == [f"Maintenance mode is ON {where}"]
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with redis.Redis(host="127.0.0.1", port=port) as client:
        assert client.get("maintenance_mode") == b"1"
    data = status_json(
        run(LITESTAR, "--app", "litestar_redis:app", "maintenance", "status", "--json", env=env)
    )
    assert data["maintenance"] is True
    assert data["backend"] == f"redis: {redis_url} key maintenance_mode"


def test_json_exit_code_and_secret_options(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    base = ("--app", "litestar_file:app", "maintenance")
    assert run(LITESTAR, *base, "status", "--exit-code", env=env).returncode == 0
    out = maintenance("litestar_file:app", "on", "--with-secret", env=env)
    assert out[0] == f"Maintenance mode is ON (file: {state})"
    assert any(line.startswith("Bypass link: https://<your-host>/") for line in out)
    result = run(LITESTAR, *base, "status", "--json", "--exit-code", env=env)
    data = status_json(result, code=3)
    assert data["secret_stored"] is True
    assert data["on_now"] is True


def test_help_lists_the_command_and_its_subcommands(tmp_path: Path) -> None:
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "state.txt")
    # (`litestar --help` lists plugin commands in newer Litestar releases, not in 2.15.)
    sub = run(LITESTAR, "--app", "litestar_file:app", "maintenance", "--help", env=env)
    assert sub.returncode == 0, sub.stderr
    for command in ("status", "on", "off"):
        assert command in sub.stdout
    assert "litestar maintenance" in sub.stdout
    on_help = run(LITESTAR, "--app", "litestar_file:app", "maintenance", "on", "--help", env=env)
    assert "--with-secret" in on_help.stdout
    assert "LITESTAR_MAINTENANCE_SECRET" in on_help.stdout
    # The app decides the backend: no backend options here.
    assert "--backend" not in on_help.stdout
    assert "--file-path" not in on_help.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--backend", "redis"),
        ("on", "--file-path", "x.txt"),
        ("status", "--app", "x:app"),
    ],
)
def test_backend_options_are_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "state.txt")
    error_line(
        run(LITESTAR, "--app", "litestar_file:app", "maintenance", *args, env=env),
        "not available here",
    )


def test_variables_of_the_standalone_command_do_not_change_the_apps_backend(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.txt"
    other = tmp_path / "other.txt"
    env = clean_env(
        CLI_TEST_STATE_FILE=state,
        LITESTAR_MAINTENANCE_BACKEND="file",
        LITESTAR_MAINTENANCE_FILE_PATH=other,
    )
    assert maintenance("litestar_file:app", "on", env=env) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    assert not other.exists()


def test_errors_are_one_line(tmp_path: Path) -> None:
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "missing-dir" / "state.txt")
    error_line(
        run(LITESTAR, "--app", "litestar_file:app", "maintenance", "on", env=env), "Cannot write"
    )
    error_line(
        run(LITESTAR, "--app", "litestar_file:app", "maintenance", "status", "--bogus", env=env),
        "--bogus",
        "litestar maintenance status --help",
        code=2,
    )


@pytest.mark.parametrize("app", ["litestar_file:app", "litestar_middleware:app"])
def test_the_standalone_command_takes_an_app_too(tmp_path: Path, app: str) -> None:
    state = tmp_path / "state.txt"
    state.write_text("1", encoding="utf-8")
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert lines(run(LITESTAR_STANDALONE, "--app", app, "status", env=env)) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    env["LITESTAR_MAINTENANCE_APP"] = app
    assert lines(run(LITESTAR_STANDALONE, "off", env=env)) == [
        f"Maintenance mode is OFF (file: {state})"
    ]


# --- the plugin's side: a CLI plugin, its backend -------------------------------------------


def test_the_plugin_is_a_cli_plugin_and_exposes_its_backend(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    plugin = MaintenancePlugin(backend=backend)
    assert isinstance(plugin, CLIPluginProtocol)
    assert plugin.backend is backend
