"""The state store the app under test reads, the flipper process, and the server's log."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from maintenance_core.backends import BaseStateBackend, LocalFileBackend

from tests.support.servers import ROOT

APP = "tests.load.apps.toggled:app"

SECONDS_VAR = "MAINTENANCE_LOAD_SECONDS"
DEFAULT_SECONDS = 20.0


def load_seconds() -> float:
    """How long each load run flips maintenance: ``$MAINTENANCE_LOAD_SECONDS``, else 20."""
    raw = os.environ.get(SECONDS_VAR, "")
    seconds = float(raw) if raw.strip() else DEFAULT_SECONDS
    if seconds <= 0:
        raise ValueError(f"{SECONDS_VAR} must be a positive number of seconds, not {raw!r}")
    return seconds


@dataclass(frozen=True)
class StateStore:
    """Where the app under test keeps its maintenance state: a file, or a Redis key."""

    kind: str
    app_env: dict[str, str]  # tells tests.load.apps.toggled where the state is
    flipper_args: tuple[str, ...]  # the same, for tests.load.flipper
    file_path: Path | None = None
    redis_url: str | None = None
    redis_key: str | None = None

    def _backend(self) -> BaseStateBackend:
        if self.kind == "file":
            assert self.file_path is not None
            return LocalFileBackend(self.file_path)
        from maintenance_core.backends.redis import RedisBackend

        assert self.redis_url is not None
        assert self.redis_key is not None
        return RedisBackend(self.redis_url, key=self.redis_key)

    async def set(self, value: bool) -> None:
        """Write the state the way an operator would (the library's own backend)."""
        backend = self._backend()
        try:
            await backend.set_value(value)
        finally:
            close = getattr(backend, "aclose", None)
            if close is not None:
                await close()


def file_store(path: Path) -> StateStore:
    return StateStore(
        kind="file",
        app_env={"LOAD_BACKEND": "file", "LOAD_STATE_FILE": str(path)},
        flipper_args=("file", str(path)),
        file_path=path,
    )


def redis_store(url: str, key: str) -> StateStore:
    return StateStore(
        kind="redis",
        app_env={"LOAD_BACKEND": "redis", "LOAD_REDIS_URL": url, "LOAD_REDIS_KEY": key},
        flipper_args=("redis", url, key),
        redis_url=url,
        redis_key=key,
    )


@dataclass(frozen=True)
class FlipReport:
    """What the flipper did: writes in all, on and off, over how long, the longest
    gap between two writes, and the last value written."""

    flips: int
    on: int
    off: int
    elapsed: float
    max_gap: float
    last: bool


class Flipper:
    """A running ``tests.load.flipper`` process that has said ``ready``."""

    def __init__(self, process: Process, stdout: BufferedByteReceiveStream) -> None:
        self._process = process
        self._stdout = stdout

    async def run(self) -> FlipReport:
        """Tell it to go, wait until it exits, and return its report."""
        process = self._process
        assert process.stdin is not None
        assert process.stderr is not None
        await process.stdin.send(b"go\n")
        await process.stdin.aclose()
        output = bytearray()
        with suppress(anyio.EndOfStream):
            while True:
                output += await self._stdout.receive()
        errors = bytearray()
        with suppress(anyio.EndOfStream):
            while True:
                errors += await process.stderr.receive()
        returncode = await process.wait()
        text = output.decode(errors="replace")
        assert returncode == 0, f"the flipper failed ({returncode}):\n{text}{errors.decode()}"
        lines = text.splitlines()
        assert len(lines) == 1, f"unexpected flipper output:\n{text}"
        return FlipReport(**json.loads(lines[0]))


@asynccontextmanager
async def started_flipper(
    store: StateStore, *, seconds: float, interval: float
) -> AsyncIterator[Flipper]:
    """Start ``tests.load.flipper`` against *store* and wait until it says ``ready``
    (its imports and backend are done); it writes nothing before :meth:`Flipper.run`."""
    command = [
        sys.executable,
        "-m",
        "tests.load.flipper",
        "--seconds",
        str(seconds),
        "--interval",
        str(interval),
        *store.flipper_args,
    ]
    process = await anyio.open_process(command, cwd=ROOT)
    try:
        assert process.stdout is not None
        stdout = BufferedByteReceiveStream(process.stdout)
        with anyio.fail_after(30):
            ready = await stdout.receive_until(b"\n", 1024)
        assert ready == b"ready", f"the flipper said {ready!r} instead of ready"
        yield Flipper(process, stdout)
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.wait()
            await process.aclose()


def server_log_args(directory: Path) -> tuple[tuple[str, ...], Path]:
    """uvicorn arguments that send every log record to a file instead of the
    (unread) pipe; return them and the file's path."""
    log = directory / "server.log"
    config = directory / "server-logging.json"
    config.write_text(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
                "handlers": {
                    "file": {
                        "class": "logging.FileHandler",
                        "filename": str(log),
                        "formatter": "plain",
                    }
                },
                "root": {"handlers": ["file"], "level": "INFO"},
                "loggers": {
                    "uvicorn": {"handlers": [], "propagate": True},
                    "uvicorn.error": {"handlers": [], "propagate": True},
                    "uvicorn.access": {"handlers": [], "propagate": True},
                },
            }
        )
    )
    return ("--log-config", str(config)), log


def server_problems(log: Path) -> list[str]:
    """The lines of the server's log at level WARNING or above, and tracebacks."""
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [
        line
        for line in text.splitlines()
        if line.startswith(("WARNING", "ERROR", "CRITICAL", "Traceback"))
    ]
