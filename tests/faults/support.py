"""Helpers for the fault tests: writing state files, reading the library's log lines,
serving an app with uvicorn while keeping its output, and driving it with load.

Nothing here sleeps for synchronisation: waits poll a condition against a deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest
from maintenance_core.responses import DEFAULT_DETAIL, DEFAULT_RETRY_AFTER

from tests.support.servers import uvicorn_server

POLL_INTERVAL = 0.01  # seconds between two looks at a condition; a polling interval only

LIBRARY_LOGGER = "fastapi_maintenance"  # the apps are FastAPI apps: records carry its name

ITEMS_BODY = b'["a","b"]'
"""What ``GET /items`` of the test apps answers when it proceeds."""


# -- state files -------------------------------------------------------------------------


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace *path* with *content* through a temporary file and a rename, so a
    reader sees the old content or the new one, never a truncated file in between."""
    data = content.encode() if isinstance(content, str) else content
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_state(path: Path, on: bool) -> None:
    """Store a plain state the way the CLI does: ``"1"`` or ``"0"``, atomically."""
    write_atomically(path, "1" if on else "0")


def fill(path: Path, content: bytes) -> None:
    """Overwrite *path* in place (truncate, then write), as a broken tool would."""
    path.write_bytes(content)


def word(on: bool) -> str:
    return "on" if on else "off"


def status_for(on: bool) -> int:
    """The status of ``GET /items`` with maintenance *on* or off."""
    return 503 if on else 200


# -- the library's log lines ---------------------------------------------------------------


def library_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records the library logged (the ``fastapi_maintenance`` logger and children)."""
    return [record for record in caplog.records if record.name.split(".")[0] == LIBRARY_LOGGER]


def shown(records: list[logging.LogRecord]) -> str:
    """Records as ``LEVEL message`` lines, for assertion messages."""
    lines = [f"{record.levelname} {record.getMessage()}" for record in records]
    return f"{len(lines)} log line(s):\n" + "\n".join(lines)


# -- checking answers ----------------------------------------------------------------------


def problem_with(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """What is wrong with an answer to ``GET /items``, or ``None`` if it is a documented one:
    ``200`` with the route's body, or the default maintenance ``503``."""
    if status == 200:
        return None if body == ITEMS_BODY else f"200 with body {body[:200]!r}"
    if status != 503:
        return f"status {status} with body {body[:200]!r}"
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if payload != {"detail": DEFAULT_DETAIL}:
        return f"503 with body {body[:200]!r}"
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.get("retry-after") != str(DEFAULT_RETRY_AFTER):
        return f"503 with Retry-After {lowered.get('retry-after')!r}"
    if not lowered.get("content-type", "").startswith("application/json"):
        return f"503 with content-type {lowered.get('content-type')!r}"
    return None


# -- load ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """One request made by :class:`Load`.

    Attributes:
        started: when it was sent (``time.monotonic()``).
        ended: when its answer (or error) arrived.
        status: the status, or ``None`` if the request failed.
        problem: why the answer is not a documented one (a connection error, a
            ``500``, a wrong maintenance body), or ``None``.
    """

    started: float
    ended: float
    status: int | None
    problem: str | None


Requester = Callable[[], Awaitable[Reply]]


class Load:
    """Keep *workers* requests in flight until the block ends, recording every outcome.

    Args:
        request: makes one request and returns its reply; anything it raises is
            recorded as a failed request.
        workers: how many requests are in flight at once.
    """

    def __init__(self, request: Requester, workers: int) -> None:
        self._request = request
        self._workers = workers
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self.outcomes: list[Outcome] = []

    async def __aenter__(self) -> Load:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    async def _work(self) -> None:
        while not self._stopping:
            started = time.monotonic()
            status: int | None
            problem: str | None
            try:
                reply = await self._request()
            except Exception as error:
                status, problem = None, f"{type(error).__name__}: {error}"
            else:
                status = reply.status
                problem = problem_with(reply.status, reply.headers, reply.body)
            self.outcomes.append(Outcome(started, time.monotonic(), status, problem))
            # Yield to the test's own task: a request to an in-memory ASGI app may
            # complete without ever suspending.
            await asyncio.sleep(0)

    async def wait_for_more(self, count: int, *, within: float = 10.0, what: str = "") -> None:
        """Return once *count* more requests than now have been answered."""
        target = len(self.outcomes) + count
        deadline = time.monotonic() + within
        while len(self.outcomes) < target:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"only {len(self.outcomes) - target + count} of {count} more requests "
                    f"answered within {within}s {what}".rstrip()
                )
            await asyncio.sleep(POLL_INTERVAL)

    def problems(self) -> list[str]:
        return [outcome.problem for outcome in self.outcomes if outcome.problem is not None]


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    within: float,
    what: str,
    details: Callable[[], str] | None = None,
) -> None:
    """Return as soon as *condition* (sync or async) holds; fail after *within* seconds,
    saying *what* was awaited and, if given, what *details* tells at that moment."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details is not None else ""
            raise AssertionError(f"not true within {within}s: {what}{extra}")
        await asyncio.sleep(POLL_INTERVAL)


# -- serving with uvicorn ------------------------------------------------------------------


@dataclass
class ServedApp:
    """An app served by uvicorn in a subprocess whose output goes to *log_path*."""

    url: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def lines(self) -> list[str]:
        return self.output().splitlines()


@contextmanager
def serve(app: str, *, log_path: Path, env: Mapping[str, str] | None = None) -> Iterator[ServedApp]:
    """Run ``uvicorn <app>`` on a free loopback port, its output going to *log_path*."""
    with uvicorn_server(app, env=env, args=("--no-access-log",), log_path=log_path) as url:
        yield ServedApp(url, log_path)
