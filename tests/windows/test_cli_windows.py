"""The installed ``fastapi-maintenance`` and ``litestar-maintenance`` commands with windows.

Every command runs in a subprocess with a clean environment. The error cases are
independent of each other, so they run concurrently once per module and each
test checks one of them.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis

from ._helpers import (
    Flavor,
    cli_env,
    cli_error_line,
    cli_output_lines,
    run_cli,
    utc_now,
    when,
    whole_seconds_from_now,
    window_json,
)

OPEN_UNTIL = re.compile(
    r"^Window: open until (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC) \((\d+)m(\d\d)s left\)$"
)


def file_args(path: Path) -> list[str]:
    return ["--backend", "file", "--file-path", str(path)]


def assert_open_for_about_30_minutes(line: str, stored_end: datetime) -> None:
    match = OPEN_UNTIL.match(line)
    assert match is not None, line
    assert match.group(1) == when(stored_end)
    assert match.group(2) == "29", line  # "29m..s left": a moment has passed since "on"


# --- on --for, status, off ----------------------------------------------------------------


def test_on_for_30m_then_status_then_off(flavor: Flavor, tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    before = utc_now()

    lines = cli_output_lines(run_cli(flavor, "on", *file_args(path), "--for", "30m"))

    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"on", "end"}
    assert data["on"] is True
    end = datetime.fromisoformat(data["end"])
    assert end.utcoffset() == timedelta(0)
    expected = before.replace(microsecond=0) + timedelta(minutes=30)
    assert timedelta(0) <= end - expected <= timedelta(seconds=5)
    assert len(lines) == 2, lines
    assert lines[0] == f"Maintenance mode is ON (file: {path})"
    assert_open_for_about_30_minutes(lines[1], end)

    if flavor == "fastapi":  # the status command is shared: once is enough
        status = cli_output_lines(run_cli(flavor, "status", *file_args(path)))
        assert status[0] == f"Maintenance mode is ON (file: {path})"
        assert len(status) == 2
        assert_open_for_about_30_minutes(status[1], end)

    off = cli_output_lines(run_cli(flavor, "off", *file_args(path)))
    assert off == [f"Maintenance mode is OFF (file: {path})"]
    assert path.read_text(encoding="utf-8") == "0"


def test_on_with_start_and_end_in_the_future(flavor: Flavor, tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    start = whole_seconds_from_now(2 * 3600)
    end = start + timedelta(hours=1)

    lines = cli_output_lines(
        run_cli(
            flavor,
            "on",
            *file_args(path),
            "--start",
            start.isoformat(),
            "--end",
            end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )

    assert len(lines) == 2, lines
    assert lines[0] == f"Maintenance mode is OFF (file: {path})"
    pattern = (
        re.escape(f"Window: starts {when(start)} (in ")
        + r"(1h59m|2h00m)"
        + re.escape(f") until {when(end)}")
    )
    assert re.fullmatch(pattern, lines[1]), lines[1]
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "on": True,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def test_status_of_a_json_window_in_the_environment() -> None:
    end = utc_now().replace(microsecond=0) + timedelta(minutes=30)
    env = cli_env(FASTAPI_MAINTENANCE_MODE=window_json(True, None, end))

    lines = cli_output_lines(run_cli("fastapi", "status", env=env))

    assert lines[0] == "Maintenance mode is ON (env: FASTAPI_MAINTENANCE_MODE)"
    assert_open_for_about_30_minutes(lines[1], end)


# --- errors, run concurrently -------------------------------------------------------------

ERROR_CASES: dict[str, tuple[Flavor, list[str], tuple[str, ...]]] = {
    "end-and-for": (
        "fastapi",
        ["--end", "2099-01-01T00:00Z", "--for", "30m"],
        ("Give either --end or --for, not both.",),
    ),
    "for-3x": ("fastapi", ["--for", "3x"], ("--for '3x' is not a duration", "30m")),
    "for-0m": ("litestar", ["--for", "0m"], ("--for must be longer than zero",)),
    "for-empty": ("fastapi", ["--for", ""], ("--for '' is not a duration",)),
    "for-beyond-year-9999": ("fastapi", ["--for", "99999999d"], ("--for",)),
    "start-naive": (
        "fastapi",
        ["--start", "2099-01-01T00:00:00", "--end", "2099-01-02T00:00:00Z"],
        ("start='2099-01-01T00:00:00' has no time zone",),
    ),
    "end-past": ("litestar", ["--end", "2001-01-01T00:00Z"], ("already past", "in the future")),
}

ENV_CASES: dict[str, tuple[Flavor, list[str]]] = {
    "env-for-fastapi": ("fastapi", ["--for", "30m"]),
    "env-start-end-litestar": (
        "litestar",
        ["--backend", "env", "--start", "2099-01-01T00:00Z", "--end", "2099-01-02T00:00Z"],
    ),
}


@pytest.fixture(scope="module")
def error_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    directory = tmp_path_factory.mktemp("cli-errors")
    jobs: dict[str, tuple[Path, Flavor, list[str]]] = {}
    for name, (flavor, args, _) in ERROR_CASES.items():
        path = directory / f"{name}.txt"
        jobs[name] = (path, flavor, ["on", *file_args(path), *args])
    for name, (flavor, args) in ENV_CASES.items():
        jobs[name] = (directory / f"{name}.txt", flavor, ["on", *args])
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            name: pool.submit(run_cli, flavor, *argv) for name, (_, flavor, argv) in jobs.items()
        }
        return {name: (jobs[name][0], future.result()) for name, future in futures.items()}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_window_options_are_one_error_line(
    case: str, error_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    path, result = error_runs[case]
    cli_error_line(result, *ERROR_CASES[case][2])
    assert not path.exists(), "nothing may be written for a bad window"


@pytest.mark.parametrize("case", list(ENV_CASES))
def test_window_on_the_env_backend_is_a_read_only_error(
    case: str, error_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    _, result = error_runs[case]
    line = cli_error_line(result, "read-only")
    assert "MAINTENANCE_MODE" in line


# --- the redis backend against a real redis-server -----------------------------------------


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as connection:
        yield connection


def redis_args(url: str) -> list[str]:
    return ["--backend", "redis", "--redis-url", url]


def test_redis_on_for_status_off(redis_url: str, redis_client: redis.Redis) -> None:
    flavor: Flavor = "fastapi"
    where = f"(redis: {redis_url} key maintenance_mode)"

    lines = cli_output_lines(run_cli(flavor, "on", *redis_args(redis_url), "--for", "30m"))

    stored = redis_client.get("maintenance_mode")
    assert isinstance(stored, bytes)
    data = json.loads(stored)
    assert set(data) == {"on", "end"}
    end = datetime.fromisoformat(data["end"])
    assert lines[0] == f"Maintenance mode is ON {where}"
    assert len(lines) == 2, lines
    assert_open_for_about_30_minutes(lines[1], end)

    status = cli_output_lines(run_cli(flavor, "status", *redis_args(redis_url)))
    assert status[0] == f"Maintenance mode is ON {where}"
    assert_open_for_about_30_minutes(status[1], end)

    off = cli_output_lines(run_cli(flavor, "off", *redis_args(redis_url)))
    assert off == [f"Maintenance mode is OFF {where}"]
    assert redis_client.get("maintenance_mode") == b"0"


def test_redis_future_window(redis_url: str, redis_client: redis.Redis) -> None:
    start = whole_seconds_from_now(3 * 3600)
    end = start + timedelta(minutes=30)

    lines = cli_output_lines(
        run_cli(
            "litestar",
            "on",
            *redis_args(redis_url),
            "--start",
            start.isoformat(),
            "--end",
            end.isoformat(),
        )
    )

    assert lines[0] == f"Maintenance mode is OFF (redis: {redis_url} key maintenance_mode)"
    assert lines[1].startswith(f"Window: starts {when(start)} (in ")
    assert lines[1].endswith(f") until {when(end)}")
    stored = redis_client.get("maintenance_mode")
    assert isinstance(stored, bytes)
    assert json.loads(stored) == {"on": True, "start": start.isoformat(), "end": end.isoformat()}


def test_redis_bad_window_writes_nothing(redis_url: str, redis_client: redis.Redis) -> None:
    redis_client.set("maintenance_mode", "1")
    result = run_cli("fastapi", "on", *redis_args(redis_url), "--for", "0m")
    cli_error_line(result, "--for must be longer than zero")
    assert redis_client.get("maintenance_mode") == b"1"
