"""The Litestar command line: ``litestar --app app:app maintenance status|on|off``, which
``MaintenancePlugin`` adds to Litestar's CLI as a CLI plugin, and the standalone
``litestar-maintenance`` console script.

The shared implementation is tested with ``fastapi-maintenance`` and in tests/cli;
these tests check what is Litestar's own, and run on the oldest supported Litestar
too (scripts/test run 3): the subcommand acts on the backend of the app Litestar
loads (the real app modules of tests/cli/apps, served by uvicorn for the round
trip), the plugin exposes its backend and closes it at shutdown, and the script
reads ``LITESTAR_MAINTENANCE_MODE`` by default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import litestar_maintenance
import pytest
import redis
from litestar import Litestar, get
from litestar.plugins import CLIPluginProtocol
from litestar.testing import TestClient
from litestar_maintenance import MaintenanceConfig, MaintenancePlugin
from litestar_maintenance.backends import (
    LocalFileBackend,
    MemoryBackend,
    RedisBackend,
)

from tests.cli._helpers import (
    LITESTAR,
    LITESTAR_STANDALONE,
    clean_env,
    error_line,
    lines,
    run,
    status_json,
)
from tests.redis.conftest import redis_executable, redis_server, redis_url
from tests.support.redis_server import RedisServer
from tests.support.servers import uvicorn_server

from .helpers import ENV_VAR, assert_maintenance

__all__ = ["redis_executable", "redis_server", "redis_url"]  # fixtures

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


# --- litestar maintenance: the plugin's subcommand ------------------------------


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


# --- the plugin's backend at shutdown ---------------------------------------------


@get("/")
async def hello() -> str:
    return "hello"


def _connections(client: redis.Redis) -> int:
    return len(client.client_list())


def test_a_redis_backend_is_closed_at_shutdown(redis_server: RedisServer, redis_url: str) -> None:
    with redis.Redis(host="127.0.0.1", port=redis_server.port) as raw:
        before = _connections(raw)
        backend = RedisBackend(redis_url)
        app = Litestar(
            [hello], plugins=[MaintenancePlugin(config=MaintenanceConfig(backend=backend))]
        )
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
            # The backend follows changes: a client and a subscription of its own.
            deadline = time.monotonic() + 5
            while raw.pubsub_numsub("maintenance_mode:changed")[0][1] != 1:
                assert time.monotonic() < deadline, "the backend never subscribed"
                time.sleep(0.01)  # polling a server-side count, not synchronisation
            assert _connections(raw) > before
        assert raw.pubsub_numsub("maintenance_mode:changed")[0][1] == 0
        deadline = time.monotonic() + 5
        while _connections(raw) != before:
            assert time.monotonic() < deadline, raw.client_list()
            time.sleep(0.01)


class RecordingBackend(MemoryBackend):
    """A memory backend that records when it is closed."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def aclose(self) -> None:
        self.events.append("closed")


def test_the_backend_is_closed_after_the_apps_own_shutdown_hooks() -> None:
    events: list[str] = []
    backend = RecordingBackend(events)

    async def on_shutdown() -> None:
        events.append(f"hook sees {await litestar_maintenance.get_maintenance_mode()}")

    app = Litestar([hello], plugins=[MaintenancePlugin(backend=backend)], on_shutdown=[on_shutdown])
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert events == []
    assert events == ["hook sees False", "closed"]


def test_backend_is_the_configured_default_without_a_backend_of_its_own(
    tmp_path: Path,
) -> None:
    plugin = MaintenancePlugin()
    assert plugin.backend.describe() == "env: LITESTAR_MAINTENANCE_MODE"
    # configure_backend() takes effect whenever it is called, as for the requests.
    litestar_maintenance.configure_backend("file", file_path=tmp_path / "state.txt")
    assert isinstance(plugin.backend, LocalFileBackend)
    assert plugin.backend.describe() == f"file: {tmp_path / 'state.txt'}"


def test_the_subcommand_without_the_cli_extra_is_one_line(tmp_path: Path) -> None:
    # A typer module that cannot be imported, first on the path: as without the cli extra.
    (tmp_path / "typer.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'typer'\", name='typer')\n", encoding="utf-8"
    )
    path = os.pathsep.join(filter(None, [os.fspath(tmp_path), os.environ.get("PYTHONPATH")]))
    env = clean_env(CLI_TEST_STATE_FILE=tmp_path / "state.txt", PYTHONPATH=path)
    error_line(
        run(LITESTAR, "--app", "litestar_file:app", "maintenance", "status", env=env),
        "pip install 'litestar-maintenance[cli]'",
    )
