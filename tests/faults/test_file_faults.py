"""Faults of the state file under a FastAPI app on ``LocalFileBackend``.

What the documentation promises (docs/backends.md, "Local file"):

- a missing file means off, and so does an empty one (``parse_state`` takes an
  empty value for off): deleting or truncating the file, or removing its
  directory, switches maintenance off, and that is not an error, so nothing is
  logged;
- a file that exists but cannot be read, or holds an unknown value, leaves the
  last state read in force (off if none was read), is logged once as an error
  naming the file, the problem and the state used, and once more when it can be
  read again; requests never get a ``500`` for it.

The app checks the file on every request (``check_interval=0``), so recovery
must be visible on the very first request after the fault is gone; one test
also runs with an interval, where recovery is polled for. Each fault is
injected once with maintenance on and once with it off beforehand, and once
before the app has read any state at all.

The last two tests keep many requests in flight while the file breaks and is
repaired: "logged once" must hold for concurrent requests too.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend

from .support import (
    Load,
    Reply,
    fill,
    library_records,
    problem_with,
    shown,
    status_for,
    wait_until,
    word,
    write_atomically,
    write_state,
)

pytestmark = pytest.mark.anyio

REQUESTS = 50  # requests made while a fault is in place

RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_IGNORES_PERMISSIONS = (
    "running as root: permission bits do not stop root (CAP_DAC_OVERRIDE), so chmod cannot "
    "make the state file or its directory unreadable; the 'replaced-by-directory' and "
    "'directory-replaced-by-file' faults cover an unreadable state for root"
)


@dataclass(frozen=True)
class Fault:
    """Something that happens to the state file.

    Attributes:
        inject: breaks the file at the given path.
        clear: removes what would stop a valid file from being written there again
            (the test then writes one).
        error: the exception the log line must name, or ``None`` when the fault is
            not an error by design (the file is missing or empty: off).
    """

    inject: Callable[[Path], None]
    clear: Callable[[Path], None]
    error: str | None


def _nothing(path: Path) -> None:
    pass


def _fill_with(content: bytes) -> Callable[[Path], None]:
    def inject(path: Path) -> None:
        fill(path, content)

    return inject


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    with path.open("wb"):
        pass


def _remove_directory(path: Path) -> None:
    shutil.rmtree(path.parent)


def _recreate_directory(path: Path) -> None:
    path.parent.mkdir()


def _replace_with_directory(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


def _remove_that_directory(path: Path) -> None:
    path.rmdir()


def _replace_directory_with_file(path: Path) -> None:
    shutil.rmtree(path.parent)
    path.parent.write_text("this was the state directory\n")


def _restore_directory(path: Path) -> None:
    path.parent.unlink()
    path.parent.mkdir()


def _chmod_file(mode: int) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        path.chmod(mode)

    return change


def _chmod_directory(mode: int) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        path.parent.chmod(mode)

    return change


LONG_LINE = b"maintenance " * 10_000 + b"\n"  # 120 kB on one line

FAILING_FAULTS = {
    "garbage-word": Fault(_fill_with(b"maybe\n"), _nothing, "InvalidStateValueError"),
    "garbage-binary": Fault(_fill_with(b"\xff\xfe\x00"), _nothing, "not UTF-8 text"),
    "huge": Fault(_fill_with(b"1" * 200_000), _nothing, "larger than a state can be"),
    "garbage-long-line": Fault(_fill_with(LONG_LINE), _nothing, "InvalidStateValueError"),
    "garbage-json": Fault(_fill_with(b'{"on": "maybe"}'), _nothing, "InvalidStateValueError"),
    "replaced-by-directory": Fault(
        _replace_with_directory, _remove_that_directory, "IsADirectoryError"
    ),
    "directory-replaced-by-file": Fault(
        _replace_directory_with_file, _restore_directory, "NotADirectoryError"
    ),
    "chmod-000": Fault(_chmod_file(0o000), _chmod_file(0o644), "PermissionError"),
    "directory-chmod-000": Fault(
        _chmod_directory(0o000), _chmod_directory(0o755), "PermissionError"
    ),
}
NEEDS_PERMISSIONS = {"chmod-000", "directory-chmod-000"}

# Once a state was read, a file that vanishes is a fault too (off only before that).
VANISHED_FAULTS = {
    "deleted": Fault(_delete, _nothing, "StateFileMissingError"),
    "truncated": Fault(_truncate, _nothing, "StateFileMissingError"),
    "directory-removed": Fault(_remove_directory, _recreate_directory, "StateFileMissingError"),
}


def _params(faults: dict[str, Fault]) -> list[object]:
    return [
        pytest.param(
            fault,
            id=name,
            marks=[pytest.mark.skipif(RUNNING_AS_ROOT, reason=ROOT_IGNORES_PERMISSIONS)]
            if name in NEEDS_PERMISSIONS
            else [],
        )
        for name, fault in faults.items()
    ]


BEFORE = [pytest.param(True, id="was-on"), pytest.param(False, id="was-off")]


@pytest.fixture
def state_file(tmp_path: Path) -> Iterator[Path]:
    """Where the state lives: ``<tmp>/state/maintenance_mode.txt`` (not created yet)."""
    directory = tmp_path / "state"
    directory.mkdir()
    yield directory / "maintenance_mode.txt"
    # A failed test may leave a fault behind that stops pytest from cleaning up.
    if directory.is_dir():
        directory.chmod(0o755)
        for child in directory.iterdir():
            child.chmod(0o755)


@pytest.fixture
def library_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="fastapi_maintenance")
    return caplog


def _app(state_file: Path, check_interval: float = 0, **options: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(
        MaintenanceModeMiddleware,
        backend=LocalFileBackend(state_file, check_interval=check_interval),
        **options,
    )

    @app.get("/items")
    async def items() -> list[str]:
        return ["a", "b"]

    return app


@pytest.fixture
async def http(state_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on *state_file*, built before anything is written there."""
    transport = httpx.ASGITransport(app=_app(state_file))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


async def _get(http: httpx.AsyncClient) -> Reply:
    response = await http.get("/items")
    return Reply(response.status_code, response.headers, response.content)


async def _statuses(http: httpx.AsyncClient, count: int) -> list[int]:
    """Make *count* requests one after the other; fail on any undocumented answer."""
    statuses = []
    for _ in range(count):
        reply = await _get(http)
        problem = problem_with(reply.status, reply.headers, reply.body)
        assert problem is None, problem
        statuses.append(reply.status)
    return statuses


def _assert_error_line(
    caplog: pytest.LogCaptureFixture, state_file: Path, error: str, used: str
) -> None:
    records = library_records(caplog)
    assert len(records) == 1, shown(records)
    [record] = records
    message = record.getMessage()
    assert record.levelno == logging.ERROR, shown(records)
    assert str(state_file) in message, message
    assert error in message, message
    assert used in message, message


def _assert_recovery_line(caplog: pytest.LogCaptureFixture, state_file: Path, on: bool) -> None:
    records = library_records(caplog)
    assert len(records) == 1, shown(records)
    [record] = records
    message = record.getMessage()
    assert record.levelno == logging.WARNING, shown(records)
    assert "readable again" in message, message
    assert str(state_file) in message, message
    assert f"maintenance is {word(on)}" in message, message


@pytest.mark.parametrize("before", BEFORE)
@pytest.mark.parametrize("fault", _params(FAILING_FAULTS))
async def test_an_unreadable_state_keeps_the_last_known_state_and_is_logged_once(
    fault: Fault,
    before: bool,
    state_file: Path,
    http: httpx.AsyncClient,
    library_log: pytest.LogCaptureFixture,
) -> None:
    write_state(state_file, before)
    assert await _statuses(http, 5) == [status_for(before)] * 5
    assert library_records(library_log) == []

    fault.inject(state_file)
    assert await _statuses(http, REQUESTS) == [status_for(before)] * REQUESTS
    assert fault.error is not None
    _assert_error_line(
        library_log,
        state_file,
        fault.error,
        f"using the last known state: maintenance is {word(before)}",
    )
    library_log.clear()

    # The fault is gone and a new state is written: the very next request follows it.
    fault.clear(state_file)
    write_state(state_file, not before)
    assert await _statuses(http, REQUESTS) == [status_for(not before)] * REQUESTS
    _assert_recovery_line(library_log, state_file, not before)
    library_log.clear()

    write_state(state_file, before)
    assert await _statuses(http, 5) == [status_for(before)] * 5
    assert library_records(library_log) == []


@pytest.mark.parametrize("before", BEFORE)
@pytest.mark.parametrize("fault", _params(VANISHED_FAULTS))
async def test_a_vanished_state_file_is_a_fault_once_a_state_was_read(
    fault: Fault,
    before: bool,
    state_file: Path,
    http: httpx.AsyncClient,
    library_log: pytest.LogCaptureFixture,
) -> None:
    write_state(state_file, before)
    assert await _statuses(http, 5) == [status_for(before)] * 5

    fault.inject(state_file)
    # Deleted, truncated mid-write or its directory gone: the last known state holds.
    assert await _statuses(http, REQUESTS) == [status_for(before)] * REQUESTS
    assert fault.error is not None
    _assert_error_line(
        library_log,
        state_file,
        fault.error,
        f"using the last known state: maintenance is {word(before)}",
    )
    library_log.clear()

    fault.clear(state_file)
    write_state(state_file, not before)
    assert await _statuses(http, REQUESTS) == [status_for(not before)] * REQUESTS
    _assert_recovery_line(library_log, state_file, not before)


@pytest.mark.parametrize("fault", _params({**VANISHED_FAULTS, **FAILING_FAULTS}))
async def test_on_state_error_on_serves_maintenance_for_every_file_fault(
    fault: Fault, state_file: Path, library_log: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=_app(state_file, on_state_error="on"))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        write_state(state_file, False)
        assert await _statuses(http, 5) == [200] * 5
        fault.inject(state_file)
        assert await _statuses(http, REQUESTS) == [503] * REQUESTS
        fault.clear(state_file)
        write_state(state_file, False)
        assert await _statuses(http, 5) == [200] * 5


@pytest.mark.parametrize("fault", _params(FAILING_FAULTS))
async def test_with_no_state_ever_read_an_unreadable_state_means_off(
    fault: Fault, state_file: Path, http: httpx.AsyncClient, library_log: pytest.LogCaptureFixture
) -> None:
    write_state(state_file, True)
    fault.inject(state_file)  # before the app's first request

    assert await _statuses(http, REQUESTS) == [200] * REQUESTS
    assert fault.error is not None
    _assert_error_line(
        library_log, state_file, fault.error, "using the default: maintenance is off"
    )
    library_log.clear()

    fault.clear(state_file)
    write_state(state_file, True)
    assert await _statuses(http, REQUESTS) == [503] * REQUESTS
    _assert_recovery_line(library_log, state_file, True)


@pytest.mark.parametrize("fault", _params(VANISHED_FAULTS))
async def test_with_no_state_ever_read_a_missing_or_empty_file_means_off(
    fault: Fault, state_file: Path, http: httpx.AsyncClient, library_log: pytest.LogCaptureFixture
) -> None:
    write_state(state_file, True)
    fault.inject(state_file)  # before the app's first request

    assert await _statuses(http, REQUESTS) == [200] * REQUESTS
    assert library_records(library_log) == [], shown(library_records(library_log))

    fault.clear(state_file)
    write_state(state_file, True)
    assert await _statuses(http, REQUESTS) == [503] * REQUESTS
    assert library_records(library_log) == [], shown(library_records(library_log))


@pytest.mark.parametrize("fault", _params(FAILING_FAULTS))
async def test_with_a_check_interval_the_fault_and_the_recovery_are_seen_within_it(
    fault: Fault, state_file: Path, library_log: pytest.LogCaptureFixture
) -> None:
    interval = 0.1
    write_state(state_file, True)
    transport = httpx.ASGITransport(app=_app(state_file, check_interval=interval))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        assert await _statuses(http, 5) == [503] * 5

        fault.inject(state_file)

        async def noticed() -> bool:
            assert await _statuses(http, 1) == [503]
            return bool(library_records(library_log))

        await wait_until(noticed, within=20 * interval, what="the fault is noticed at a check")
        # Between checks the error is served from memory: still no 500, still one line.
        assert await _statuses(http, REQUESTS) == [503] * REQUESTS
        assert fault.error is not None
        _assert_error_line(
            library_log, state_file, fault.error, "using the last known state: maintenance is on"
        )
        library_log.clear()

        fault.clear(state_file)
        write_state(state_file, False)

        async def follows() -> bool:
            return await _statuses(http, 1) == [200]

        await wait_until(follows, within=20 * interval, what="the app follows the repaired file")
        assert await _statuses(http, REQUESTS) == [200] * REQUESTS
        _assert_recovery_line(library_log, state_file, False)


async def test_every_fault_episode_is_logged_once_even_when_the_fault_changes_kind(
    state_file: Path, http: httpx.AsyncClient, library_log: pytest.LogCaptureFixture
) -> None:
    write_state(state_file, True)
    assert await _statuses(http, 5) == [503] * 5

    # One episode whose cause changes on the way: still one error line.
    fill(state_file, b"maybe")
    assert await _statuses(http, 10) == [503] * 10
    _replace_with_directory(state_file)
    assert await _statuses(http, 10) == [503] * 10
    _remove_that_directory(state_file)
    fill(state_file, b"\xff")
    assert await _statuses(http, 10) == [503] * 10
    records = library_records(library_log)
    assert [record.levelno for record in records] == [logging.ERROR], shown(records)
    assert "InvalidStateValueError" in records[0].getMessage()
    library_log.clear()

    write_state(state_file, True)
    assert await _statuses(http, 10) == [503] * 10
    _assert_recovery_line(library_log, state_file, True)
    library_log.clear()

    # A second episode is a new problem: one more error line, one more recovery line.
    fill(state_file, b"perhaps")
    assert await _statuses(http, 10) == [503] * 10
    _assert_error_line(
        library_log,
        state_file,
        "InvalidStateValueError",
        "using the last known state: maintenance is on",
    )
    library_log.clear()
    write_state(state_file, False)
    assert await _statuses(http, 10) == [200] * 10
    _assert_recovery_line(library_log, state_file, False)


async def test_a_very_long_garbage_line_is_logged_as_one_short_line(
    state_file: Path, http: httpx.AsyncClient, library_log: pytest.LogCaptureFixture
) -> None:
    write_state(state_file, True)
    assert await _statuses(http, 1) == [503]
    fill(state_file, LONG_LINE)
    assert await _statuses(http, 5) == [503] * 5
    [record] = library_records(library_log)
    message = record.getMessage()
    # "Clear" means readable: the value is shown cut short, not all 120 kB of it.
    assert len(message) < 1_000, f"{len(message)} characters: {message[:300]}..."
    assert "\n" not in message
    assert str(state_file) in message
    assert message.endswith("using the last known state: maintenance is on."), message[-300:]


async def test_one_error_and_one_recovery_line_per_fault_under_concurrent_requests(
    state_file: Path, http: httpx.AsyncClient, library_log: pytest.LogCaptureFixture
) -> None:
    """50 requests in flight while the file breaks and is repaired, fifty times over.

    Each episode must give exactly one error line and one recovery line, in that
    order, and every request the last known state (on).
    """
    episodes = 50
    write_state(state_file, True)
    assert await _statuses(http, 1) == [503]

    def lines_at_least(count: int) -> Callable[[], bool]:
        return lambda: len(library_records(library_log)) >= count

    async with Load(lambda: _get(http), workers=50) as load:
        await load.wait_for_more(30, what="before the first fault")
        for episode in range(episodes):
            write_atomically(state_file, b"maybe")
            await wait_until(
                lines_at_least(2 * episode + 1),
                within=5.0,
                what=f"episode {episode}: the fault is noticed",
            )
            await load.wait_for_more(30, what=f"episode {episode}: during the fault")
            write_state(state_file, True)
            await wait_until(
                lines_at_least(2 * episode + 2),
                within=5.0,
                what=f"episode {episode}: the recovery is noticed",
            )
            await load.wait_for_more(30, what=f"episode {episode}: after the recovery")

    assert load.problems() == []
    assert {outcome.status for outcome in load.outcomes} == {503}
    levels = [record.levelname for record in library_records(library_log)]
    assert levels == ["ERROR", "WARNING"] * episodes, (
        f"{len(load.outcomes)} requests; log lines: {shown(library_records(library_log))}"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
async def test_a_fifo_in_place_of_the_state_file_never_blocks_a_request(
    state_file: Path, http: httpx.AsyncClient, library_log: pytest.LogCaptureFixture
) -> None:
    """Opening a FIFO blocks until someone writes to it, which would hang every
    request that reads the state. Such a path is refused as "not a regular file"
    without being opened: one error line, the last known state, then recovery."""
    write_state(state_file, True)
    assert await _statuses(http, 1) == [503]

    fifo = state_file.with_name("slow-read.fifo")
    os.mkfifo(fifo)
    os.replace(fifo, state_file)
    # No writer ever opens the FIFO: a library that opened it would hang here
    # until the test's timeout.
    assert await _statuses(http, REQUESTS) == [503] * REQUESTS
    _assert_error_line(
        library_log,
        state_file,
        "not a regular file",
        "using the last known state: maintenance is on",
    )
    library_log.clear()

    write_state(state_file, False)
    assert await _statuses(http, 5) == [200] * 5
    _assert_recovery_line(library_log, state_file, False)
