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

The permission faults (chmod 000 on the file or its directory) run as root too,
in a pytest child without the capabilities that let root read past permission
bits (see "permission faults, also as root" below).
"""

from __future__ import annotations

import functools
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend

from tests.support.servers import ROOT

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
PERMISSION_FAULTS = {name: FAILING_FAULTS[name] for name in ("chmod-000", "directory-chmod-000")}

# Once a state was read, a file that vanishes is a fault too (off only before that).
VANISHED_FAULTS = {
    "deleted": Fault(_delete, _nothing, "StateFileMissingError"),
    "truncated": Fault(_truncate, _nothing, "StateFileMissingError"),
    "directory-removed": Fault(_remove_directory, _recreate_directory, "StateFileMissingError"),
}


def _params(faults: dict[str, Fault]) -> list[object]:
    return [pytest.param(fault, id=name) for name, fault in faults.items()]


# -- permission faults, also as root -------------------------------------------------------
#
# Permission bits do not stop a process with CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH
# (root, as in CI): a chmod 000 leaves the file readable to it. There, the cases of a
# permission fault run in one pytest child started by `setpriv` without those two
# capabilities, and each case here takes the outcome of its own run there. Anywhere
# else they run here. The child drops them from its inheritable and bounding sets (a
# uid 0 process gets its bounding set as capabilities at exec) and stays uid 0, so it
# owns the files and directories it chmods and can undo that, and can use pytest's
# temporary directories, which switching to an unprivileged uid would not allow.

_DAC_CAPABILITIES = {"dac_override": 1, "dac_read_search": 2}  # capability numbers
_DROP = ",".join(f"-{name}" for name in _DAC_CAPABILITIES)
_IN_CHILD = "MAINTENANCE_FAULTS_WITHOUT_DAC"  # set in the environment of that child


def _reads_past_permission_bits() -> bool:
    """Whether this process reads files whatever their permission bits say."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # no procfs: only root does
        return hasattr(os, "geteuid") and os.geteuid() == 0
    [effective] = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")]
    return any(int(effective, 16) >> bit & 1 for bit in _DAC_CAPABILITIES.values())


READS_PAST_PERMISSION_BITS = _reads_past_permission_bits()


def _is_permission_case(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        item.path == Path(__file__)
        and callspec is not None
        and any(callspec.params.get("fault") is fault for fault in PERMISSION_FAULTS.values())
    )


@pytest.fixture(scope="module")
def without_dac_outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Run every permission case of this session in one pytest child without the
    capabilities to read past permission bits; map each test name to ``"passed"`` or
    to what went wrong."""
    if os.environ.get(_IN_CHILD):
        pytest.fail(
            f"setpriv --bounding-set={_DROP} left this process able to read past permission bits",
            pytrace=False,
        )
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        message = (
            "running with CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (root) and no setpriv "
            "(util-linux) to drop them: permission faults cannot be made here"
        )
        if sys.platform == "linux":
            pytest.fail(message, pytrace=False)  # not a skip: CI runs as root, on Linux
        pytest.skip(message)
    cases = [item.nodeid for item in request.session.items if _is_permission_case(item)]
    assert cases, "no permission case collected"  # none given would run the whole suite
    directory = tmp_path_factory.mktemp("without-dac")
    report = directory / "report.xml"
    command = [
        setpriv,
        f"--inh-caps={_DROP}",
        f"--bounding-set={_DROP}",
        "--",
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={directory / 'tmp'}",
        f"--junitxml={report}",
        *cases,
    ]
    child = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, _IN_CHILD: "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = f"$ {shlex.join(command)}\n{child.stdout[-4000:]}{child.stderr[-2000:]}"
    if not report.is_file():
        pytest.fail(f"the pytest child wrote no report:\n{output}", pytrace=False)
    outcomes: dict[str, str] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        problems = [  # what failed, and where (the last line of the traceback)
            f"{element.tag} at {(element.text or '').strip().rpartition(chr(10))[2]}\n"
            f"{element.get('message', '')}"
            for element in case
            if element.tag in ("failure", "error", "skipped")
        ]
        outcomes[case.get("name", "")] = "\n".join(problems) or "passed"
    missing = [case for case in cases if case.rpartition("::")[2] not in outcomes]
    for case in missing:
        outcomes[case.rpartition("::")[2]] = f"not run by the pytest child:\n{output}"
    return outcomes


TestFunction = Callable[..., Awaitable[None]]


def _also_as_root(test: TestFunction) -> TestFunction:
    """Let *test* (which takes ``fault`` and ``request``) run its permission cases
    without the capabilities to read past permission bits, as explained above."""

    @functools.wraps(test)
    async def run(*, fault: Fault, request: pytest.FixtureRequest, **fixtures: Any) -> None:
        if READS_PAST_PERMISSION_BITS and any(fault is f for f in PERMISSION_FAULTS.values()):
            outcome = request.getfixturevalue("without_dac_outcomes").get(request.node.name)
            if outcome != "passed":
                pytest.fail(
                    f"{request.node.name}, run without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH:\n"
                    f"{outcome}",
                    pytrace=False,
                )
            return
        await test(fault=fault, request=request, **fixtures)

    return run


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
@_also_as_root
async def test_an_unreadable_state_keeps_the_last_known_state_and_is_logged_once(
    fault: Fault,
    before: bool,
    state_file: Path,
    http: httpx.AsyncClient,
    library_log: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
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
@_also_as_root
async def test_on_state_error_on_serves_maintenance_for_every_file_fault(
    fault: Fault,
    state_file: Path,
    library_log: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
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
@_also_as_root
async def test_with_no_state_ever_read_an_unreadable_state_means_off(
    fault: Fault,
    state_file: Path,
    http: httpx.AsyncClient,
    library_log: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
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
@_also_as_root
async def test_with_a_check_interval_the_fault_and_the_recovery_are_seen_within_it(
    fault: Fault,
    state_file: Path,
    library_log: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    interval = 0.1
    write_state(state_file, True)
    transport = httpx.ASGITransport(app=_app(state_file, check_interval=interval))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        assert await _statuses(http, 5) == [503] * 5

        # The app last looked at the file before this moment, so any request that starts
        # an interval later looks again: it must see the change, however slow the host.
        broken_at = time.monotonic()
        fault.inject(state_file)

        async def noticed() -> bool:
            started = time.monotonic()
            assert await _statuses(http, 1) == [503]
            seen = bool(library_records(library_log))
            late = started - broken_at
            assert seen or late < interval, f"a request {late:.3f}s after the fault missed it"
            return seen

        await wait_until(noticed, within=20 * interval, what="the fault is noticed at a check")
        # Between checks the error is served from memory: still no 500, still one line.
        assert await _statuses(http, REQUESTS) == [503] * REQUESTS
        assert fault.error is not None
        _assert_error_line(
            library_log, state_file, fault.error, "using the last known state: maintenance is on"
        )
        library_log.clear()

        repaired_at = time.monotonic()
        fault.clear(state_file)
        write_state(state_file, False)

        async def follows() -> bool:
            started = time.monotonic()
            [status] = await _statuses(http, 1)
            late = started - repaired_at
            assert status == 200 or late < interval, (
                f"a request {late:.3f}s after the repair: {status}"
            )
            return status == 200

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
