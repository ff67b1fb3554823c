"""``LocalFileBackend``: the state in a local text file."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path

import anyio.to_thread

from .._mutex import Mutex
from ..errors import InvalidStateValueError, StateWriteError
from ..state import MaintenanceState
from .base import StateBackend

__all__ = ["LocalFileBackend"]


class LocalFileBackend(StateBackend):
    """Store the state in a local text file.

    A missing file means off. Writes go to a temporary file in the same directory
    that then replaces the state file, so a reader never sees a half-written value.

    Reads are served from memory. At most every ``check_interval`` seconds a
    read looks at the file's metadata (one ``stat``, no ``open``) and reads the
    file again only if it was replaced or changed, so a change written by
    another process (the CLI, another worker) is seen within that interval.

    Args:
        file_path: Path of the state file.
        check_interval: Seconds between checks for changes made by other
            processes; ``0`` checks on every read.
    """

    def __init__(self, file_path: str | os.PathLike[str], *, check_interval: float = 0.5) -> None:
        if not str(file_path):
            raise ValueError("LocalFileBackend needs a file_path, e.g. 'maintenance_mode.txt'.")
        if check_interval < 0:
            raise ValueError("check_interval must be zero or positive.")
        self.file_path = os.fspath(file_path)
        self.check_interval = check_interval
        self._state: MaintenanceState | None = None
        self._error: Exception | None = None
        self._stamp: tuple[int, ...] | None = None
        self._checked_at = float("-inf")
        # One check at a time: concurrent reads finishing out of order would
        # store an older result and flap between a fault and its recovery.
        self._reading = Mutex()

    async def get_state(self) -> MaintenanceState:
        """The file's state, re-read only when the file changed (see the class docs).

        Raises:
            InvalidStateValueError: if the file holds an unrecognised value.
            OSError: if the file exists but cannot be read.
        """
        if time.monotonic() - self._checked_at < self.check_interval:
            if self._error is not None:
                raise _fresh(self._error)
            if self._state is not None:
                return self._state
        async with self._reading:
            return await self._check()

    async def _check(self) -> MaintenanceState:
        self._checked_at = time.monotonic()
        stamp: tuple[int, ...] | None = ()  # () matches no file: stat itself failed
        try:
            stamp = self._stat()
            if stamp == self._stamp:
                if self._error is not None:
                    raise _fresh(self._error)
                if self._state is not None:
                    return self._state
            raw = await anyio.to_thread.run_sync(self._read) if stamp is not None else ""
            state = MaintenanceState.from_text(raw)
        except Exception as exc:
            self._error, self._stamp = exc, stamp
            raise
        self._state, self._stamp, self._error = state, stamp, None
        return state

    async def read_state_now(self) -> MaintenanceState:
        """Read the file now, whatever ``check_interval`` says."""
        self._checked_at = float("-inf")
        self._stamp = None
        return await self.get_state()

    async def set_state(self, state: MaintenanceState) -> None:
        """Atomically replace the file with the state's stored form.

        Raises:
            StateWriteError: naming the file and the reason, if it cannot be written.
        """
        try:
            stamp = await anyio.to_thread.run_sync(self._write, state.to_text())
        except OSError as exc:
            raise StateWriteError(self.file_path, exc) from exc
        # The stamp of the file we wrote, not of whatever the path holds now: another
        # process may have replaced it since, and that change must still be seen.
        self._state, self._error, self._stamp = state, None, stamp
        self._checked_at = time.monotonic()

    def _stat(self) -> tuple[int, ...] | None:
        try:
            info = os.stat(self.file_path)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode):
            # Opening a FIFO or a device could block a worker thread for good.
            raise IsADirectoryError(
                errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL,
                "not a regular file",
                self.file_path,
            )
        return _stamp(info)

    def _read(self) -> str:
        try:
            return Path(self.file_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def _write(self, text: str) -> tuple[int, ...]:
        target = Path(self.file_path)
        directory = target.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                tmp.write(text)
                tmp.flush()
                os.fsync(tmp.fileno())
                os.fchmod(tmp.fileno(), 0o644)
                info = os.fstat(tmp.fileno())  # the stamp survives the rename
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return _stamp(info)

    def describe(self) -> str:
        return f"file: {self.file_path}"


def _stamp(info: os.stat_result) -> tuple[int, ...]:
    # The mode is in it so that a chmod making the file unreadable is noticed.
    return (info.st_ino, info.st_mtime_ns, info.st_size, info.st_mode)


def _fresh(error: Exception) -> Exception:
    """A new exception like *error*, so re-raising does not grow one traceback forever."""
    if isinstance(error, InvalidStateValueError):
        return InvalidStateValueError(error.raw, error.reason)
    try:
        return type(error)(*error.args)
    except Exception:
        return error
