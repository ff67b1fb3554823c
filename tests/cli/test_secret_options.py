"""Bypass secrets from the command line without putting them on it: ``--with-secret``
generates one, ``--secret -`` reads one from a hidden prompt or standard input,
``<PREFIX>_SECRET`` from the environment. A secret is never echoed."""

from __future__ import annotations

import os
import pty
import re
import select
import time
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend

from ._helpers import FASTAPI, LITESTAR_STANDALONE, clean_env, error_line, lines, run

SECRET = "team-secret-for-the-cli-2031"


async def bypass_status(state: Path, secret: str | None) -> int:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=LocalFileBackend(state, check_interval=0))

    @app.get("/items")
    def items() -> list[str]:
        return []

    headers = {"X-Maintenance-Bypass": secret} if secret else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return (await client.get("/items", headers=headers)).status_code


def test_with_secret_generates_stores_and_prints_it_once(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    out = lines(run(FASTAPI, "on", "--file-path", state, "--with-secret"))
    assert out[:2] == [
        f"Maintenance mode is ON (file: {state})",
        "Bypass secret: set (stored as a hash with the state)",
    ]
    match = re.fullmatch(r"Bypass secret \(shown only now, keep it\): ([A-Za-z0-9_-]{32})", out[2])
    assert match, out
    secret = match.group(1)
    assert out[3] == f"Bypass link: https://<your-host>/any/path?maintenance_bypass={secret}"
    assert len(out) == 4
    # Stored only as a hash; it lets the team through, nobody else.
    assert secret not in state.read_text(encoding="utf-8")
    assert anyio.run(bypass_status, state, secret) == 200
    assert anyio.run(bypass_status, state, None) == 503
    # status never shows it again.
    status = run(FASTAPI, "status", "--file-path", state)
    assert secret not in status.stdout + status.stderr

    again = lines(run(FASTAPI, "on", "--file-path", state, "--with-secret"))
    assert again[2] != out[2], "each call generates a new secret"
    assert anyio.run(bypass_status, state, secret) == 503, "the old secret is revoked"


def test_with_secret_and_secret_together_are_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    line = error_line(
        run(FASTAPI, "on", "--file-path", state, "--with-secret", "--secret", SECRET),
        "--with-secret",
        "--secret",
    )
    assert SECRET not in line
    assert not state.exists()


def test_with_secret_on_the_read_only_env_backend_shows_no_secret() -> None:
    line = error_line(run(FASTAPI, "on", "--with-secret"), "read-only")
    assert "Bypass" not in line


def test_secret_from_the_environment(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env(LITESTAR_MAINTENANCE_SECRET=SECRET, LITESTAR_MAINTENANCE_FILE_PATH=state)
    result = run(LITESTAR_STANDALONE, "on", env=env)
    assert lines(result)[1] == "Bypass secret: set (stored as a hash with the state)"
    assert SECRET not in result.stdout
    assert anyio.run(bypass_status, state, SECRET) == 200


def test_a_weak_secret_from_the_environment_is_refused_without_echo(tmp_path: Path) -> None:
    weak = "short-pw"
    env = clean_env(FASTAPI_MAINTENANCE_SECRET=weak)
    line = error_line(
        run(FASTAPI, "on", "--file-path", tmp_path / "s.txt", env=env), "bypass secret"
    )
    assert weak not in line
    assert not (tmp_path / "s.txt").exists()


def test_secret_dash_reads_standard_input(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    result = run(FASTAPI, "on", "--file-path", state, "--secret", "-", stdin=SECRET + "\n")
    assert lines(result)[1] == "Bypass secret: set (stored as a hash with the state)"
    assert SECRET not in result.stdout + result.stderr
    assert anyio.run(bypass_status, state, SECRET) == 200


def test_secret_dash_with_nothing_to_read_is_one_error_line(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    error_line(run(FASTAPI, "on", "--file-path", state, "--secret", "-", stdin=""), "--secret -")
    assert not state.exists()


def _read_until(fd: int, wanted: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, seen
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.skipif(not hasattr(os, "fork"), reason="a pseudo-terminal needs fork")
def test_secret_dash_on_a_terminal_is_a_hidden_prompt(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    env = clean_env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real console script on a terminal
        os.chdir(tmp_path)
        os.execve(
            os.fspath(FASTAPI),
            [os.fspath(FASTAPI), "on", "--file-path", os.fspath(state), "--secret", "-"],
            env,
        )
    try:
        prompt = _read_until(fd, b"Bypass secret (hidden): ")
        assert b"Bypass secret (hidden): " in prompt
        os.write(fd, SECRET.encode() + b"\r")
        rest = _read_until(fd, b"stored as a hash")
        rest += _read_until(fd, b"\n", timeout=5)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, rest
    assert SECRET.encode() not in prompt + rest, "the terminal must not echo the secret"
    assert b"Maintenance mode is " in rest
    assert anyio.run(bypass_status, state, SECRET) == 200
