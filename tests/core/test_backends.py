"""Behaviour of the state backends and of the text format they store."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from unittest import mock

import anyio
import pytest
from maintenance_core import (
    BackendReadOnlyError,
    BaseStateBackend,
    EnvVarBackend,
    InvalidStateValueError,
    LocalFileBackend,
    MaintenanceError,
    MemoryBackend,
    StateBackend,
    parse_state,
)
from maintenance_core.backends.file import MAX_STATE_BYTES
from maintenance_core.bypass import hash_secret
from maintenance_core.errors import StateFileMissingError, StateWriteError
from maintenance_core.state import MaintenanceState

from tests.support.waiting import eventually

from ._helpers import names_in

STORED_SECRET_HASH = hash_secret("a-team-secret-for-the-file-mode-test-x7Q")

pytestmark = pytest.mark.anyio

TRUTHY = ["1", "yes", "y", "true", "t", "on"]
FALSY = ["0", "no", "n", "false", "f", "off"]
INVALID = ["2", "-1", "maybe", "enabled", "onn", "tru", "yes please", "o n", "1.0", "\x00", "ja"]


def _case_variants(word: str) -> list[str]:
    return sorted({word, word.upper(), word.capitalize(), word.swapcase()})


# --- parse_state / _str_to_bool / _bool_to_str -------------------------------------------


@pytest.mark.parametrize("word", TRUTHY)
def test_truthy_words_parse_as_on_in_any_case(word: str) -> None:
    for variant in _case_variants(word):
        assert parse_state(variant) is True, variant
        assert BaseStateBackend._str_to_bool(variant) is True, variant


@pytest.mark.parametrize("word", FALSY)
def test_falsy_words_parse_as_off_in_any_case(word: str) -> None:
    for variant in _case_variants(word):
        assert parse_state(variant) is False, variant
        assert BaseStateBackend._str_to_bool(variant) is False, variant


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  1  ", True),
        ("\ttrue\n", True),
        ("ON\r\n", True),
        ("\n off \n", False),
        (" No\t", False),
        ("0\n", False),
    ],
)
def test_surrounding_whitespace_is_ignored(raw: str, expected: bool) -> None:
    assert parse_state(raw) is expected
    assert BaseStateBackend._str_to_bool(raw) is expected


@pytest.mark.parametrize("raw", ["", " ", "\n", " \t\r\n "])
def test_empty_or_blank_value_is_off(raw: str) -> None:
    assert parse_state(raw) is False


@pytest.mark.parametrize("raw", INVALID)
def test_unrecognised_value_raises_with_a_helpful_message(raw: str) -> None:
    with pytest.raises(InvalidStateValueError) as excinfo:
        parse_state(raw)
    error = excinfo.value
    assert isinstance(error, ValueError)
    assert isinstance(error, MaintenanceError)
    assert error.raw == raw
    message = str(error)
    # Described, never repeated: a state file may be a symlink to a file of secrets.
    assert raw not in message.split("):")[0].replace(f"{len(raw)} characters", "")
    assert f"({len(raw)} characters)" in message
    for word in [*TRUTHY, *FALSY]:
        assert word in message
    with pytest.raises(InvalidStateValueError):
        BaseStateBackend._str_to_bool(raw)


def test_inner_whitespace_is_not_stripped() -> None:
    with pytest.raises(InvalidStateValueError):
        parse_state("t rue")


def test_bool_to_str_serialises_as_1_and_0() -> None:
    assert BaseStateBackend._bool_to_str(True) == "1"
    assert BaseStateBackend._bool_to_str(False) == "0"
    for value in (True, False):
        assert parse_state(BaseStateBackend._bool_to_str(value)) is value


def test_base_backend_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseStateBackend()  # type: ignore[abstract]


# --- EnvVarBackend -------------------------------------------------------------------------


@pytest.fixture
def no_default_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAINTENANCE_MODE", raising=False)


@pytest.mark.usefixtures("no_default_env")
async def test_env_backend_default_variable_name_is_maintenance_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = EnvVarBackend()
    assert backend.var_name == "MAINTENANCE_MODE"
    assert await backend.get_value() is False
    monkeypatch.setenv("MAINTENANCE_MODE", "yes")
    assert await backend.get_value() is True  # read again on every read, as 0.0.5 did
    monkeypatch.setenv("MAINTENANCE_MODE", " OFF ")
    assert await backend.get_value() is False
    assert "MAINTENANCE_MODE" in backend.describe()


@pytest.mark.usefixtures("no_default_env")
async def test_env_backend_custom_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = EnvVarBackend(var_name="MY_APP_MAINTENANCE")
    assert backend.var_name == "MY_APP_MAINTENANCE"
    monkeypatch.delenv("MY_APP_MAINTENANCE", raising=False)
    monkeypatch.setenv("MAINTENANCE_MODE", "1")  # the default name must not be read
    assert await backend.get_value() is False
    monkeypatch.setenv("MY_APP_MAINTENANCE", "True")
    assert await backend.get_value() is True
    assert "MY_APP_MAINTENANCE" in backend.describe()


async def test_env_backend_subclass_changes_default_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class AppEnvBackend(EnvVarBackend):
        default_var_name = "APP_MAINT"

    monkeypatch.setenv("APP_MAINT", "on")
    backend = AppEnvBackend()
    assert backend.var_name == "APP_MAINT"
    assert await backend.get_value() is True


async def test_env_backend_unset_and_empty_mean_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAINT_UNDER_TEST", raising=False)
    assert await EnvVarBackend(var_name="MAINT_UNDER_TEST").get_value() is False
    monkeypatch.setenv("MAINT_UNDER_TEST", "")
    assert await EnvVarBackend(var_name="MAINT_UNDER_TEST").get_value() is False


async def test_env_backend_follows_the_variable_read_after_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MAINT_UNDER_TEST", raising=False)
    backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")
    seen = []
    for value in ("on", "off", "1", "", "yes", "no"):
        monkeypatch.setenv("MAINT_UNDER_TEST", value)
        seen.append(await backend.get_value())
    monkeypatch.delenv("MAINT_UNDER_TEST")
    seen.append(await backend.get_value())
    assert seen == [True, False, True, False, True, False, False]


async def test_env_backend_sees_every_way_the_environment_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """os.environ item assignment, deletion, update and clear, unittest.mock.patch.dict,
    and a mapping put in place of os.environ: each shows on the next read."""
    monkeypatch.delenv("MAINT_UNDER_TEST", raising=False)
    backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")
    assert await backend.get_value() is False
    os.environ["MAINT_UNDER_TEST"] = "on"
    try:
        assert await backend.get_value() is True
        os.environ.update({"MAINT_UNDER_TEST": "off"})
        assert await backend.get_value() is False
        with mock.patch.dict(os.environ, {"MAINT_UNDER_TEST": "true"}):
            assert await backend.get_value() is True
        assert await backend.get_value() is False
        with mock.patch.dict(os.environ, {"MAINT_UNDER_TEST": "1"}, clear=True):
            assert await backend.get_value() is True
    finally:
        del os.environ["MAINT_UNDER_TEST"]
    assert await backend.get_value() is False
    monkeypatch.setattr(os, "environ", {"MAINT_UNDER_TEST": "yes"})
    assert await backend.get_value() is True
    monkeypatch.undo()
    assert await backend.get_value() is False


async def test_env_backend_first_read_under_a_replaced_environ_then_the_real_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend first read while os.environ is a plain mapping (a test's patch) reads
    the real environment once it is back."""
    monkeypatch.delenv("MAINT_UNDER_TEST", raising=False)
    with mock.patch("os.environ", {"MAINT_UNDER_TEST": "0"}):
        backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")
        assert await backend.get_value() is False
    monkeypatch.setenv("MAINT_UNDER_TEST", "1")
    assert await backend.get_value() is True


async def test_env_backend_parses_each_distinct_value_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    original = MaintenanceState.from_text

    def counting_from_text(raw: str) -> MaintenanceState:
        parsed.append(raw)
        return original(raw)

    monkeypatch.setattr(MaintenanceState, "from_text", counting_from_text)
    monkeypatch.setenv("MAINT_UNDER_TEST", "yes")
    backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")

    for _ in range(200):
        assert await backend.get_value() is True
    assert parsed == ["yes"]

    monkeypatch.setenv("MAINT_UNDER_TEST", "no")
    for _ in range(200):
        assert await backend.get_value() is False
    assert parsed == ["yes", "no"]


async def test_env_backend_bad_value_reads_as_off_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MAINT_UNDER_TEST", "sometimes")
    backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            assert await backend.get_value() is False
            assert (await backend.read_state_now()).on is False

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "MAINT_UNDER_TEST" in message
    assert "sometimes" not in message  # a value in the environment is never echoed

    # Fixing the variable is seen at the next read.
    monkeypatch.setenv("MAINT_UNDER_TEST", "on")
    assert await backend.get_value() is True


async def test_env_backend_is_read_only_and_set_value_only_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")
    assert backend.writable is False
    assert EnvVarBackend.writable is False
    monkeypatch.setenv("MAINT_UNDER_TEST", "0")
    environ_before = dict(os.environ)

    with caplog.at_level(logging.WARNING, logger="maintenance_core"):
        await backend.set_value(True)

    assert dict(os.environ) == environ_before
    assert await backend.get_value() is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "MAINT_UNDER_TEST" in warnings[0].getMessage()
    assert "read-only" in warnings[0].getMessage()


async def test_env_backend_set_value_does_not_create_variable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("MAINT_UNDER_TEST", raising=False)
    backend = EnvVarBackend(var_name="MAINT_UNDER_TEST")
    with caplog.at_level(logging.WARNING, logger="maintenance_core"):
        await backend.set_value(True)
    assert "MAINT_UNDER_TEST" not in os.environ
    assert await backend.get_value() is False


def test_check_writable() -> None:
    MemoryBackend().check_writable()
    with pytest.raises(BackendReadOnlyError, match="read-only"):
        EnvVarBackend(var_name="X").check_writable()


# --- LocalFileBackend ----------------------------------------------------------------------


async def test_file_backend_missing_file_is_off_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    assert await backend.get_value() is False
    assert await backend.get_value() is False
    assert not path.exists()
    assert names_in(tmp_path) == []


async def test_file_backend_round_trip_and_file_content(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(str(path))
    assert backend.writable is True
    assert backend.file_path == str(path)

    await backend.set_value(True)
    assert path.read_text(encoding="utf-8") == "1"
    assert await backend.get_value() is True

    await backend.set_value(False)
    assert path.read_text(encoding="utf-8") == "0"
    assert await backend.get_value() is False

    await backend.set_value(True)
    assert await LocalFileBackend(path).get_value() is True  # a second instance sees it
    assert str(path) in backend.describe()


async def test_file_backend_accepts_path_objects(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    assert backend.file_path == os.fspath(tmp_path / "state.txt")


@pytest.mark.parametrize(("content", "expected"), [("yes\n", True), (" OFF ", False), ("", False)])
async def test_file_backend_reads_hand_written_values(
    tmp_path: Path, content: str, expected: bool
) -> None:
    path = tmp_path / "state.txt"
    path.write_text(content, encoding="utf-8")
    assert await LocalFileBackend(path).get_value() is expected


async def test_file_backend_garbage_raises(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("perhaps", encoding="utf-8")
    with pytest.raises(InvalidStateValueError, match=r"\(7 characters\)") as raised:
        await LocalFileBackend(path).get_value()
    assert "perhaps" not in str(raised.value)  # described, never repeated


async def test_file_backend_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    for i in range(25):
        await backend.set_value(i % 2 == 0)
    assert names_in(tmp_path) == ["state.txt"]
    assert path.read_text(encoding="utf-8") == "1"


async def test_file_backend_failed_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    # The target is a directory: the final replace fails, the temporary file must go.
    target = tmp_path / "state.txt"
    target.mkdir()
    backend = LocalFileBackend(target)
    with pytest.raises(StateWriteError, match="Cannot write the maintenance state to") as info:
        await backend.set_value(True)
    assert isinstance(info.value.__cause__, IsADirectoryError)
    assert isinstance(info.value, OSError)  # still an OSError for code catching that
    assert names_in(tmp_path) == ["state.txt"]
    assert target.is_dir()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
async def test_file_backend_state_file_is_readable_by_other_users(tmp_path: Path) -> None:
    # The temporary file is created private (0600); other workers must still read the state.
    path = tmp_path / "state.txt"
    await LocalFileBackend(path).set_value(True)
    assert path.stat().st_mode & 0o444 == 0o444


async def test_file_backend_write_replaces_file_rather_than_rewriting_it(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    await backend.set_value(False)
    before = path.stat().st_ino
    await backend.set_value(True)
    assert path.stat().st_ino != before  # a new inode: the file was swapped in whole


async def test_file_backend_concurrent_reader_never_sees_partial_value(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    await backend.set_value(False)

    reader_started = threading.Event()
    stop = threading.Event()
    seen: list[str] = []
    failures: list[str] = []

    def reader() -> None:
        while True:
            raw = backend._read()
            try:
                parse_state(raw)
            except InvalidStateValueError:
                failures.append(raw)
            if raw.strip() == "":
                failures.append(raw)  # the file always exists: empty means a partial write
            seen.append(raw)
            reader_started.set()
            if stop.is_set():
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        await anyio.to_thread.run_sync(reader_started.wait)
        for i in range(300):
            await backend.set_value(i % 2 == 0)
    finally:
        stop.set()
        await anyio.to_thread.run_sync(thread.join)

    assert failures == []
    assert len(seen) > 0
    assert set(seen) <= {"0", "1"}
    assert names_in(tmp_path) == ["state.txt"]


async def test_file_backend_concurrent_writers_end_consistent(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    async with anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(backend.set_value, i % 2 == 0)
    assert path.read_text(encoding="utf-8") in {"0", "1"}
    assert names_in(tmp_path) == ["state.txt"]


def test_file_backend_empty_path_raises_value_error() -> None:
    with pytest.raises(ValueError, match="file_path"):
        LocalFileBackend("")


async def test_file_backend_missing_directory_raises_os_error_at_set(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "does-not-exist" / "state.txt")  # no error yet
    assert await backend.get_value() is False
    with pytest.raises(StateWriteError, match="Cannot write the maintenance state to") as info:
        await backend.set_value(True)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert isinstance(info.value, OSError)  # still an OSError for code catching that
    assert not (tmp_path / "does-not-exist").exists()


async def test_file_backend_parent_is_a_file_raises_os_error_at_set(tmp_path: Path) -> None:
    parent = tmp_path / "plain-file"
    parent.write_text("x", encoding="utf-8")
    backend = LocalFileBackend(parent / "state.txt")
    with pytest.raises(StateWriteError, match="Cannot write the maintenance state to") as info:
        await backend.set_value(True)
    assert isinstance(info.value.__cause__, NotADirectoryError)
    assert isinstance(info.value, OSError)  # still an OSError for code catching that
    assert parent.read_text(encoding="utf-8") == "x"


async def test_file_backend_unwritable_directory_raises_os_error_at_set() -> None:
    # /proc refuses new files even to root, unlike a chmod-ed directory.
    backend = LocalFileBackend("/proc/maintenance_mode.txt")
    with pytest.raises(OSError):  # noqa: PT011 - the errno depends on the kernel
        await backend.set_value(True)
    assert await backend.get_value() is False


# --- LocalFileBackend: reads served from memory, checked every check_interval ----------------


class FileSpy:
    """Counts a :class:`LocalFileBackend`'s metadata checks and file reads."""

    def __init__(self, backend: LocalFileBackend, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stats = 0
        self.reads = 0
        real_stat, real_read = backend._stat, backend._read

        def stat() -> tuple[int, int, int] | None:
            self.stats += 1
            return real_stat()

        def read() -> str:
            self.reads += 1
            return real_read()

        monkeypatch.setattr(backend, "_stat", stat)
        monkeypatch.setattr(backend, "_read", read)


async def _read_or_error(backend: BaseStateBackend) -> bool | InvalidStateValueError:
    try:
        return await backend.get_value()
    except InvalidStateValueError as exc:
        return exc


def test_file_backend_check_interval_defaults_to_half_a_second_and_must_not_be_negative(
    tmp_path: Path,
) -> None:
    assert LocalFileBackend(tmp_path / "state.txt").check_interval == 0.5
    assert LocalFileBackend(tmp_path / "state.txt", check_interval=0).check_interval == 0
    with pytest.raises(ValueError, match="check_interval"):
        LocalFileBackend(tmp_path / "state.txt", check_interval=-1)


async def test_file_backend_does_not_open_the_file_on_every_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=60)
    spy = FileSpy(backend, monkeypatch)

    for _ in range(200):
        assert await backend.get_value() is True
    assert spy.reads == 1
    assert spy.stats == 1

    # Within the interval, another writer's change is not even looked for.
    await LocalFileBackend(path).set_value(False)
    assert await backend.get_value() is True
    assert (spy.reads, spy.stats) == (1, 1)


async def test_file_backend_set_value_updates_its_own_reads_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path, check_interval=60)
    spy = FileSpy(backend, monkeypatch)
    assert await backend.get_value() is False  # no file: off, nothing to open
    await backend.set_value(True)
    assert await backend.get_value() is True
    await backend.set_value(False)
    assert await backend.get_value() is False
    assert spy.reads == 0
    assert path.read_text(encoding="utf-8") == "0"


async def test_file_backend_with_zero_interval_checks_every_read_but_reads_only_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("0", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    spy = FileSpy(backend, monkeypatch)

    for _ in range(50):
        assert await backend.get_value() is False
    assert spy.stats == 50
    assert spy.reads == 1

    await LocalFileBackend(path).set_value(True)  # another writer
    assert await backend.get_value() is True  # the very next read sees it
    assert spy.reads == 2


async def test_file_backend_sees_another_writers_change_within_the_check_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.txt"
    reader = LocalFileBackend(path, check_interval=0.2)
    writer = LocalFileBackend(path, check_interval=0.2)  # another worker, or the CLI
    assert await reader.get_value() is False  # no file yet
    spy = FileSpy(reader, monkeypatch)

    await writer.set_value(True)
    assert await eventually(reader.get_value, lambda on: on is True, timeout=1.0) is True
    assert spy.reads == 1

    # The file does not change any more: later checks stat it and do not read it again.
    checks_when_seen = spy.stats

    async def checks_so_far() -> int:
        assert await reader.get_value() is True
        return spy.stats

    await eventually(checks_so_far, lambda checks: checks >= checks_when_seen + 2, timeout=2.0)
    assert spy.reads == 1


async def test_file_backend_garbage_raises_until_fixed_then_reads_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("0", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0.2)
    spy = FileSpy(backend, monkeypatch)
    assert await backend.get_value() is False

    path.write_text("perhaps", encoding="utf-8")
    first = await eventually(
        lambda: _read_or_error(backend),
        lambda result: isinstance(result, InvalidStateValueError),
        timeout=1.0,
    )
    assert "(7 characters)" in str(first)

    # Every read raises while the file stays unchanged, across later checks too,
    # and each time with a new exception object (tracebacks do not pile up).
    results: list[bool | InvalidStateValueError] = [first]
    checks_when_broken = spy.stats

    async def read_again() -> int:
        results.append(await _read_or_error(backend))
        return spy.stats

    await eventually(read_again, lambda checks: checks >= checks_when_broken + 2, timeout=2.0)
    assert all(isinstance(r, InvalidStateValueError) and r.raw == "perhaps" for r in results)
    assert len({id(r) for r in results}) == len(results)

    path.write_text("yes", encoding="utf-8")
    fixed = await eventually(lambda: _read_or_error(backend), lambda r: r is True, timeout=1.0)
    assert fixed is True


async def test_file_backend_deleted_file_is_a_fault_once_a_state_was_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.txt"
    assert await LocalFileBackend(path).get_value() is False  # never there: off
    assert not path.exists()  # reading does not create it

    path.write_text("1", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    assert await backend.get_value() is True
    path.unlink()
    with pytest.raises(StateFileMissingError, match="is missing"):
        await backend.get_value()
    path.write_text("", encoding="utf-8")
    with pytest.raises(StateFileMissingError, match="is empty"):
        await backend.get_value()
    path.write_text("0", encoding="utf-8")
    assert await backend.get_value() is False


async def test_file_backend_refuses_a_huge_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_bytes(b"1" + b" " * (MAX_STATE_BYTES + 10))
    with pytest.raises(InvalidStateValueError, match="larger than a state can be"):
        await LocalFileBackend(path).get_value()


async def test_file_backend_keeps_the_file_mode_and_hides_a_stored_secret(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    await backend.set_value(True)
    assert path.stat().st_mode & 0o777 == 0o644  # a new file
    path.chmod(0o640)
    await backend.set_value(False)
    assert path.stat().st_mode & 0o777 == 0o640  # kept across writes
    await backend.set_state(MaintenanceState(True, bypass=STORED_SECRET_HASH))
    assert path.stat().st_mode & 0o777 == 0o640  # others lose access; the group keeps it
    fresh = tmp_path / "fresh.txt"
    await LocalFileBackend(fresh).set_state(MaintenanceState(True, bypass=STORED_SECRET_HASH))
    assert fresh.stat().st_mode & 0o777 == 0o600  # a new file holding a secret


def _world_readable_directory_with_a_file_of_nobody() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="state-owner-"))  # pytest's tmp is root-only
    directory.chmod(0o755)
    path = directory / "state.txt"
    path.write_text("0", encoding="utf-8")
    os.chown(path, 65534, 65534)
    path.chmod(0o644)
    return directory


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
async def test_a_write_by_root_keeps_the_owner_so_the_app_can_still_read() -> None:
    # The app runs as nobody and owns the file; root runs the CLI with a secret.
    directory = _world_readable_directory_with_a_file_of_nobody()
    path = directory / "state.txt"
    try:
        await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=STORED_SECRET_HASH))
        info = path.stat()
        assert (info.st_uid, info.st_gid) == (65534, 65534)
        assert info.st_mode & 0o777 == 0o640
        # And nobody really reads it: a child without root's rights.
        read = await anyio.run_process(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", str(path)],
            check=False,
        )
        assert read.returncode == 0, read.stderr
        assert read.stdout.startswith(b"{")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- MemoryBackend -------------------------------------------------------------------------


async def test_memory_backend_defaults_to_off_and_round_trips() -> None:
    backend = MemoryBackend()
    assert backend.writable is True
    assert await backend.get_value() is False
    await backend.set_value(True)
    assert await backend.get_value() is True
    await backend.set_value(False)
    assert await backend.get_value() is False
    assert backend.describe() == "memory"


async def test_memory_backend_initial_value_and_bool_coercion() -> None:
    backend = MemoryBackend(True)
    assert await backend.get_value() is True
    await backend.set_value(0)  # type: ignore[arg-type]
    assert await backend.get_value() is False
    await backend.set_value("x")  # type: ignore[arg-type]
    assert await backend.get_value() is True


async def test_memory_backends_are_independent() -> None:
    a, b = MemoryBackend(), MemoryBackend()
    await a.set_value(True)
    assert await a.get_value() is True
    assert await b.get_value() is False


# --- the contract --------------------------------------------------------------------------


async def test_a_backend_is_an_async_context_manager_that_closes_itself() -> None:
    closed: list[str] = []

    class Closing(MemoryBackend):
        async def aclose(self) -> None:
            closed.append("closed")

    async with Closing(True) as backend:
        assert await backend.get_value() is True
        assert closed == []
    assert closed == ["closed"]

    with pytest.raises(RuntimeError, match="inside"):
        async with Closing() as backend:
            raise RuntimeError("inside")
    assert closed == ["closed", "closed"]


async def test_the_boolean_contract_is_translated_to_states() -> None:
    class OnOff(BaseStateBackend):
        def __init__(self) -> None:
            self.value = False

        async def get_value(self) -> bool:
            return self.value

        async def set_value(self, value: bool) -> None:
            self.value = value

    backend = OnOff()
    assert backend.stores_windows is False
    await backend.set_state(MaintenanceState(True))
    assert backend.value is True
    assert (await backend.get_state()).on is True
    assert (await backend.read_state_now()).on is True
    assert backend._str_to_bool(" Yes ") is True
    assert backend._bool_to_str(False) == "0"
    with pytest.raises(MaintenanceError, match="stores only on/off"):
        await backend.set_state(MaintenanceState.scheduled(end="2999-01-01T00:00:00Z"))
    assert backend.value is True  # nothing was written


def test_the_state_contract_needs_get_state_and_set_state() -> None:
    class Incomplete(StateBackend):
        async def get_state(self) -> MaintenanceState:
            return MaintenanceState(False)

    with pytest.raises(TypeError, match="set_state"):
        Incomplete()  # type: ignore[abstract]


async def test_file_backend_answers_from_memory_while_another_request_reads_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    assert await backend.get_value() is True
    path.write_text("0", encoding="utf-8")
    holding = anyio.Event()
    done = anyio.Event()

    async def slow_reader() -> None:
        async with backend._reading:  # as a request whose read of the file is slow
            holding.set()
            await done.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(slow_reader)
        await holding.wait()
        with anyio.fail_after(1):  # it does not queue behind that read
            assert await backend.get_value() is True  # the last state read, from memory
        done.set()
    assert await backend.get_value() is False  # the next read sees the change
