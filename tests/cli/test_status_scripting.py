"""``status --json`` and ``status --exit-code``: for scripts."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest

from tests.redis.conftest import BackendFactory

from ._helpers import FASTAPI, LITESTAR_STANDALONE, clean_env, error_line, lines, run, status_json

KEYS = [
    "maintenance",
    "on_now",
    "window",
    "secret_stored",
    "overrides",
    "retry_after",
    "backend",
    "fixed_by_app",
    "instances",
    "read_only",
    "groups",
]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_json_of_an_off_state(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert list(data) == KEYS
    assert data == {
        "maintenance": False,
        "on_now": False,
        "window": None,
        "secret_stored": False,
        "overrides": {"on": 0, "off": 0},
        "retry_after": None,
        "backend": f"file: {state}",
        "fixed_by_app": None,
        "instances": None,  # a file backend has no fleet
        "read_only": False,
        "groups": [],
    }


def test_json_of_a_window_with_a_secret_and_retry(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    start = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    end = start + timedelta(hours=1)
    args = ("--start", _iso(start), "--end", _iso(end), "--secret", "a-team-secret-of-2031")
    lines(run(FASTAPI, "on", "--file-path", state, *args, "--retry", "600"))
    data = status_json(run(FASTAPI, "status", "--file-path", state, "--json"))
    assert data["maintenance"] is True
    assert data["on_now"] is False  # the window has not started
    assert data["window"] == {"start": _iso(start), "end": _iso(end), "phase": "upcoming"}
    assert data["secret_stored"] is True
    assert data["retry_after"] == 600
    assert "a-team-secret-of-2031" not in str(data)


def test_json_of_an_open_window(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    lines(run(LITESTAR_STANDALONE, "on", "--file-path", state, "--for", "1h"))
    data = status_json(run(LITESTAR_STANDALONE, "status", "--file-path", state, "--json"))
    assert data["on_now"] is True
    assert data["window"]["start"] is None
    assert data["window"]["phase"] == "open"


def test_exit_code_follows_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    args = ("status", "--file-path", state, "--exit-code")
    off = run(FASTAPI, *args)
    assert (off.returncode, off.stdout) == (0, f"Maintenance mode is OFF (file: {state})\n")
    lines(run(FASTAPI, "on", "--file-path", state))
    on = run(FASTAPI, *args)
    assert (on.returncode, on.stdout) == (3, f"Maintenance mode is ON (file: {state})\n")
    # Without --exit-code, status succeeds whatever the state.
    assert run(FASTAPI, "status", "--file-path", state).returncode == 0
    # A window that has not started yet: off now.
    later = _iso(datetime.now(timezone.utc) + timedelta(hours=1))
    lines(run(FASTAPI, "on", "--file-path", state, "--start", later))
    assert run(FASTAPI, *args).returncode == 0
    # An error is 1, never taken for a state.
    (tmp_path / "bad.txt").write_text("maybe", encoding="utf-8")
    error_line(run(FASTAPI, "status", "--file-path", tmp_path / "bad.txt", "--exit-code"))


def test_the_documented_script(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    script = (
        f'if fastapi-maintenance status --exit-code --file-path "{state}" > /dev/null; then\n'
        "    echo serving\n"
        "else\n"
        '    case $? in 3) echo "in maintenance" ;; *) echo "cannot tell" ;; esac\n'
        "fi\n"
    )
    env = clean_env(PATH=f"{FASTAPI.parent}:/usr/bin:/bin")

    def say() -> str:
        done = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        return done.stdout.strip()

    assert say() == "serving"
    lines(run(FASTAPI, "on", "--file-path", state))
    assert say() == "in maintenance"
    state.write_text("garbage", encoding="utf-8")
    assert say() == "cannot tell"


@pytest.mark.anyio
async def test_json_counts_the_overrides_held_fleet_wide(
    make_backend: BackendFactory, redis_url: str
) -> None:
    import fastapi_maintenance

    holder = make_backend(url=redis_url)
    async with fastapi_maintenance.maintenance_mode_on(backend=holder):
        result = await anyio.to_thread.run_sync(
            lambda: run(FASTAPI, "status", "--backend", "redis", "--redis-url", redis_url, "--json")
        )
    data = status_json(result)
    assert data["overrides"] == {"on": 1, "off": 0}
    assert data["maintenance"] is False  # the stored state; the leases decide in the apps
