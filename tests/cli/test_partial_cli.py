"""``on --read-only`` and ``on --group NAME``: partial maintenance from the command line.

Every entry point (``fastapi-maintenance``, with and without ``--app``,
``litestar-maintenance``, ``litestar maintenance``, ``python -m
maintenance_core``) runs as a real console script on real state files; what the
command stores is read back from the file, from ``status`` and from an app
serving it. The fleet case (``--wait``) runs a real uvicorn instance on the
session's real redis-server.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import anyio
import httpx
import pytest
import redis.asyncio as aioredis
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.drain import list_instances
from maintenance_core.responses import DEFAULT_DETAIL, READ_ONLY_DETAIL
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.drain.fleet import APP as FLEET_APP
from tests.drain.fleet import HEARTBEAT, KEY, fleet, inside, release
from tests.drain.test_fleet import join
from tests.redis.helpers import eventually
from tests.support.servers import ROOT

from ._helpers import (
    FASTAPI,
    LITESTAR,
    LITESTAR_STANDALONE,
    clean_env,
    error_line,
    lines,
    run,
    status_json,
)

try:  # Starlette >= 0.37: the refused handshake is a WebSocketDenialResponse (a 503).
    from starlette.testclient import WebSocketDenialResponse

    REFUSALS: tuple[type[BaseException], ...] = (WebSocketDisconnect, WebSocketDenialResponse)
except ImportError:  # pragma: no cover - older Starlette: a close with code 1013
    REFUSALS = (WebSocketDisconnect,)

CORE = "maintenance_core"


def stored(state: Path) -> dict[str, object]:
    """The JSON object the state file holds."""
    data: dict[str, object] = json.loads(state.read_text(encoding="utf-8"))
    return data


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# --- on --read-only, on --group: stored, shown -------------------------------------------------


def test_on_read_only_is_stored_and_status_shows_it(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    assert lines(run(FASTAPI, "on", "--read-only", "--file-path", state)) == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: read-only",
    ]
    assert stored(state) == {"on": True, "read_only": True}
    assert lines(run(FASTAPI, "status", "--file-path", state)) == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: read-only",
    ]
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert data["read_only"] is True
    assert data["groups"] == []
    assert data["on_now"] is True


def test_on_group_twice_stores_both_groups(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    result = run(
        FASTAPI, "on", "--group", "search", "--group", "Payments API", "--file-path", state
    )
    assert lines(result) == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: groups: Payments API, search",
    ]
    assert stored(state) == {"on": True, "groups": ["Payments API", "search"]}
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert data["groups"] == ["Payments API", "search"]  # sorted, names as given
    assert data["read_only"] is False


def test_the_same_group_twice_is_stored_once(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    lines(run(FASTAPI, "on", "--group", "a", "--group", "a", "--file-path", state))
    assert stored(state) == {"on": True, "groups": ["a"]}


def test_whole_site_maintenance_keeps_its_stored_form_and_output(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    assert lines(run(FASTAPI, "on", "--file-path", state)) == [
        f"Maintenance mode is ON (file: {state})"
    ]
    assert state.read_text(encoding="utf-8") == "1"  # what fastapi-maintenance 0.0.5 reads
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert (data["read_only"], data["groups"]) == (False, [])


def test_read_only_and_groups_with_a_window_a_secret_and_retry(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    args = ("--read-only", "--group", "payments", "--for", "1h", "--retry", "120")
    result = run(FASTAPI, "on", "--file-path", state, *args, "--secret", "a-team-secret-of-2031")
    shown = lines(result)
    assert shown[:2] == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: read-only, groups: payments",
    ]
    assert shown[2].startswith("Window: open until ")
    assert shown[3] == "Bypass secret: set (stored as a hash with the state)"
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert data["window"]["phase"] == "open"
    assert data["secret_stored"] is True
    assert data["retry_after"] == 120
    assert (data["read_only"], data["groups"]) == (True, ["payments"])


def test_an_upcoming_read_only_window_is_stored_read_only(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    start = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    args = ("--start", _iso(start), "--for", "30m", "--read-only")
    shown = lines(run(LITESTAR_STANDALONE, "on", "--file-path", state, *args))
    assert shown[:2] == [f"Maintenance mode is OFF (file: {state})", "Mode: read-only"]
    data = status_json(run(LITESTAR_STANDALONE, "status", "--file-path", state, "--json"))
    assert (data["maintenance"], data["on_now"], data["read_only"]) == (True, False, True)
    assert data["window"]["phase"] == "upcoming"


def test_off_ends_partial_maintenance(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    lines(run(FASTAPI, "on", "--read-only", "--group", "a", "--file-path", state))
    assert lines(run(FASTAPI, "off", "--file-path", state)) == [
        f"Maintenance mode is OFF (file: {state})"
    ]
    assert state.read_text(encoding="utf-8") == "0"
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert (data["maintenance"], data["read_only"], data["groups"]) == (False, False, [])


def test_status_json_of_an_off_state_with_stale_limits_shows_none(tmp_path: Path) -> None:
    """A state written off with read_only/groups (by hand, or an older tool): status
    --json agrees with the text status, which shows no mode while off."""
    state = tmp_path / "state.txt"
    state.write_text('{"on": false, "read_only": true, "groups": ["payments"]}', encoding="utf-8")
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert (data["maintenance"], data["read_only"], data["groups"]) == (False, False, [])
    assert not any(
        line.startswith("Mode:") for line in lines(run(FASTAPI, "status", "--file-path", state))
    )


def test_on_again_without_the_options_covers_the_whole_site(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    lines(run(FASTAPI, "on", "--read-only", "--file-path", state))
    lines(run(FASTAPI, "on", "--group", "payments", "--file-path", state))
    assert stored(state) == {"on": True, "groups": ["payments"]}  # replaced, not merged
    lines(run(FASTAPI, "on", "--file-path", state))
    assert state.read_text(encoding="utf-8") == "1"


# --- errors: one line, nothing written ---------------------------------------------------------

SECRETIVE = "do-not-echo-me"


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        (("",), "group 1 is empty"),
        (("payments", "   "), "group 2 is empty"),
        ((SECRETIVE + "x" * 100,), "at most 100"),
        ((SECRETIVE + "\x07",), "control characters"),
        (tuple(f"{SECRETIVE}-{n}" for n in range(65)), "more than 64 groups"),
    ],
)
def test_a_bad_group_name_is_one_error_line_without_the_name(
    tmp_path: Path, groups: tuple[str, ...], fragment: str
) -> None:
    state = tmp_path / "state.txt"
    args = [arg for name in groups for arg in ("--group", name)]
    line = error_line(run(FASTAPI, "on", *args, "--file-path", state), "--group", fragment.lower())
    assert SECRETIVE not in line
    assert not state.exists()  # refused before anything was written


def test_a_bad_group_name_is_refused_before_the_secret_is_asked(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    result = run(FASTAPI, "on", "--group", "", "--secret", "-", "--file-path", state, stdin="")
    error_line(result, "--group", "group 1 is empty")


@pytest.mark.parametrize("args", [("--read-only",), ("--group", "payments"), ("--group", "")])
def test_off_with_read_only_or_group_is_one_error_line(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    state = tmp_path / "state.txt"
    lines(run(FASTAPI, "on", "--file-path", state))
    line = error_line(run(FASTAPI, "off", *args, "--file-path", state), args[0], "off")
    assert "every request" in line
    assert state.read_text(encoding="utf-8") == "1"  # still on: nothing was written


@pytest.mark.parametrize("args", [("--read-only",), ("--group", "payments")])
def test_the_env_backend_gives_the_error_it_always_gave(args: tuple[str, ...]) -> None:
    plain = error_line(run(FASTAPI, "on"), "cannot be changed at runtime")
    assert error_line(run(FASTAPI, "on", *args)) == plain
    core = error_line(run(CORE, "on"), "MAINTENANCE_MODE")
    assert error_line(run(CORE, "on", *args)) == core


def test_the_options_come_only_from_the_command_line(tmp_path: Path) -> None:
    # A forgotten export must never narrow what `on` switches on.
    state = tmp_path / "state.txt"
    env = clean_env(FASTAPI_MAINTENANCE_GROUP="payments", FASTAPI_MAINTENANCE_READ_ONLY="1")
    lines(run(FASTAPI, "on", "--file-path", state, env=env))
    assert state.read_text(encoding="utf-8") == "1"


def test_help_shows_the_options_of_on_only() -> None:
    on_help = run(FASTAPI, "on", "--help", env=clean_env(COLUMNS="200")).stdout
    for fragment in (
        "--read-only",
        "--group",
        "maintenance_group()",
        "on --backend redis --read-only --wait",
    ):
        assert fragment in on_help, fragment
    off_help = run(FASTAPI, "off", "--help", env=clean_env(COLUMNS="200")).stdout
    assert "--read-only" not in off_help
    assert "--group" not in off_help


# --- every entry point ---------------------------------------------------------------------------


def test_fastapi_app_option(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    base = ("--app", "fastapi_file:app")
    assert lines(run(FASTAPI, *base, "on", "--read-only", "--group", "payments", env=env)) == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: read-only, groups: payments",
    ]
    assert stored(state) == {"on": True, "read_only": True, "groups": ["payments"]}
    data = status_json(run(FASTAPI, "status", "--app", "fastapi_file:app", "--json", env=env))
    assert (data["read_only"], data["groups"]) == (True, ["payments"])
    error_line(run(FASTAPI, *base, "off", "--read-only", env=env), "--read-only")
    assert lines(run(FASTAPI, *base, "off", env=env)) == [
        f"Maintenance mode is OFF (file: {state})"
    ]


def test_litestar_subcommand(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    base = ("--app", "litestar_file:app", "maintenance")
    assert lines(
        run(LITESTAR, *base, "on", "--group", "payments", "--group", "search", env=env)
    ) == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: groups: payments, search",
    ]
    assert stored(state) == {"on": True, "groups": ["payments", "search"]}
    assert lines(run(LITESTAR, *base, "on", "--read-only", "--with-secret", env=env))[:3] == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: read-only",
        "Bypass secret: set (stored as a hash with the state)",
    ]
    data = status_json(run(LITESTAR, *base, "status", "--json", env=env))
    assert (data["read_only"], data["groups"], data["secret_stored"]) == (True, [], True)
    line = error_line(run(LITESTAR, *base, "on", "--group", SECRETIVE + "\x01", env=env), "--group")
    assert SECRETIVE not in line
    error_line(run(LITESTAR, *base, "off", "--group", "payments", env=env), "--group", "off")
    assert stored(state)["read_only"] is True  # neither error wrote anything


def test_litestar_standalone_app_option(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    base = ("--app", "litestar_file:app")
    lines(run(LITESTAR_STANDALONE, *base, "on", "--read-only", env=env))
    assert stored(state) == {"on": True, "read_only": True}


def test_core_command_app_option_and_environment(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(CLI_TEST_STATE_FILE=state)
    assert lines(run(CORE, "--app", "asgi_plain:app", "on", "--group", "reports", env=env)) == [
        f"Maintenance mode is ON (file: {state})",
        "Mode: groups: reports",
    ]
    assert stored(state) == {"on": True, "groups": ["reports"]}
    # The backend from the environment, as the other options.
    other = tmp_path / "other.txt"
    env = clean_env(MAINTENANCE_FILE_PATH=other)
    lines(run(CORE, "on", "--read-only", env=env))
    assert status_json(run(CORE, "status", "--json", env=env))["read_only"] is True


# --- what an app serving the state does ----------------------------------------------------------


@pytest.fixture
def partial_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, TestClient]]:
    """The app of tests/cli/apps/fastapi_partial.py reading a fresh state file."""
    state = tmp_path / "state.txt"
    monkeypatch.setenv("CLI_TEST_STATE_FILE", str(state))
    module: ModuleType = importlib.import_module("tests.cli.apps.fastapi_partial")
    module = importlib.reload(module)
    with TestClient(module.app) as client:
        yield state, client


def _socket_opens(client: TestClient) -> bool:
    try:
        with client.websocket_connect("/ws") as socket:
            return socket.receive_text() == "hello"
    except REFUSALS:
        return False


def test_read_only_from_the_command_line_lets_reads_through(
    partial_app: tuple[Path, TestClient],
) -> None:
    state, client = partial_app
    env = clean_env(CLI_TEST_STATE_FILE=state)
    lines(
        run(FASTAPI, "--app", "fastapi_partial:app", "on", "--read-only", "--retry", "90", env=env)
    )

    assert client.get("/items").status_code == 200
    refused = client.post("/items")
    assert refused.status_code == 503
    assert refused.json() == {"detail": READ_ONLY_DETAIL}
    assert refused.headers["retry-after"] == "90"
    assert not _socket_opens(client)  # a websocket handshake counts as unsafe
    # Markers keep their meaning.
    assert client.post("/health").status_code == 200
    closed = client.get("/closed")
    assert closed.status_code == 503
    assert closed.json() == {"detail": DEFAULT_DETAIL}

    lines(run(FASTAPI, "--app", "fastapi_partial:app", "on", env=env))
    assert client.get("/items").status_code == 503  # whole site again
    lines(run(FASTAPI, "--app", "fastapi_partial:app", "off", env=env))
    assert client.post("/items").status_code == 200
    assert _socket_opens(client)


# --- the migration recipe on a fleet: on --read-only --wait ------------------------------------


@pytest.mark.anyio
async def test_read_only_wait_drains_the_writer_while_reads_go_on(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    async def cli(*args: str) -> tuple[int, str, str]:
        env = {**clean_env(), "REDIS_URL": redis_url, "KEY": KEY, "HEARTBEAT": str(HEARTBEAT)}
        argv = [os.fspath(FASTAPI), "--app", FLEET_APP, *args]
        done = await anyio.run_process(argv, cwd=ROOT, env=env, check=False)
        return done.returncode, done.stdout.decode(), done.stderr.decode()

    with fleet(1, redis_url, tmp_path) as urls, anyio.fail_after(60):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            [writer] = await join(http, control, urls)
            outcome: list[tuple[int, str, str]] = []
            answers: list[httpx.Response] = []

            async def write() -> None:
                answers.append(await http.post(f"{writer.url}/write/w"))

            async def switch_on() -> None:
                outcome.append(await cli("on", "--read-only", "--wait", "30"))

            async with anyio.create_task_group() as tg:
                tg.start_soon(write)
                await inside(raw, "w")
                tg.start_soon(switch_on)

                async def serving_read_only() -> bool:
                    return any(status.on for status in await list_instances(control))

                await eventually(serving_read_only, within=20, what="the instance switched")
                late = await http.post(f"{writer.url}/write/late")
                assert late.status_code == 503
                assert late.json() == {"detail": READ_ONLY_DETAIL}
                assert (await http.get(f"{writer.url}/items")).status_code == 200
                assert outcome == []  # the writer admitted before is still running
                await release(raw, "w")
    [(code, out, err)] = outcome
    assert code == 0, err
    assert out.splitlines()[:2] == [
        f"Maintenance mode is ON (redis: {redis_url} key {KEY})",
        "Mode: read-only",
    ]
    assert "Drained:" in out
    [answer] = answers
    assert answer.status_code == 200  # admitted before the switch, it finished
