"""``LocalFileBackend``: the state in a local text file."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from pathlib import Path

import anyio.to_thread

from .._mutex import Mutex
from ..errors import InvalidStateValueError, StateFileMissingError, StateWriteError
from ..events import announce_change
from ..state import MaintenanceState
from .base import StateBackend

__all__ = ["MAX_STATE_BYTES", "LocalFileBackend"]

MAX_STATE_BYTES = 64 * 1024
"""The largest state file read: a state is a few hundred bytes; anything larger is garbage."""


class LocalFileBackend(StateBackend):
    """Store the state in a local text file.

    A file that does not exist (or is empty) when the backend first looks means
    off. Once a state has been read from it or written to it, a file that
    disappears, is emptied or has its directory removed is a fault, like a
    garbage value: the middleware serves what its ``on_state_error`` says. To
    switch off, store off (``set_maintenance_mode(False)``, the CLI's ``off``, or
    write ``0``); do not delete the file.

    Writes go to a temporary file in the same directory that then replaces the
    state file, so a reader never sees a half-written value. The file keeps its
    owner, group and permission bits across writes (the owner and group when
    the writer may set them, e.g. root running the CLI), so the app keeps
    reading a file another user wrote; while a bypass secret is stored with the
    state, others lose their access (a new file is ``0600``).

    A file larger than :data:`MAX_STATE_BYTES` is refused without being read,
    and a request never queues behind another's read of the file: while one
    request checks the file, the others are answered from memory.

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
        self._seen = False  # a state was read from or written to the file
        # One check at a time: concurrent reads finishing out of order would
        # store an older result and flap between a fault and its recovery.
        self._reading = Mutex()

    async def get_state(self) -> MaintenanceState:
        """The file's state, re-read only when the file changed (see the class docs).

        Raises:
            InvalidStateValueError: if the file holds an unrecognised value.
            OSError: if the file exists but cannot be read.
        """
        if time.monotonic() - self._checked_at < self.check_interval or self._reading.locked():
            # Fresh enough, or another request is reading the file right now: answer
            # from memory rather than queue behind a read.
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
            if not raw.strip() and self._seen:
                raise StateFileMissingError(self.file_path, "missing" if stamp is None else "empty")
            state = MaintenanceState.from_text(raw)
        except Exception as exc:
            self._error, self._stamp = exc, stamp
            raise
        old = self._state
        self._state, self._stamp, self._error = state, stamp, None
        self._seen = self._seen or bool(raw.strip())
        if old is not None:  # another process (or a person) changed the file
            announce_change(self, old, state, "fleet")
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
            stamp = await anyio.to_thread.run_sync(
                self._write, state.to_text(), state.bypass is not None
            )
        except OSError as exc:
            raise StateWriteError(self.file_path, exc) from exc
        # The stamp of the file we wrote, not of whatever the path holds now: another
        # process may have replaced it since, and that change must still be seen.
        old = self._state
        self._state, self._error, self._stamp = state, None, stamp
        self._checked_at = time.monotonic()
        self._seen = True
        announce_change(self, old, state, "local")

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
        if info.st_size > MAX_STATE_BYTES:
            raise InvalidStateValueError.describing(
                f"a file of {info.st_size} bytes, larger than a state can be "
                f"({MAX_STATE_BYTES} bytes)"
            )
        return _stamp(info)

    def _read(self) -> str:
        try:
            with open(self.file_path, "rb") as file:
                data = file.read(MAX_STATE_BYTES + 1)  # a file growing since stat() is cut here
        except FileNotFoundError:
            return ""
        if len(data) > MAX_STATE_BYTES:
            raise InvalidStateValueError.describing(
                f"a file larger than a state can be ({MAX_STATE_BYTES} bytes)"
            )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidStateValueError.describing(
                f"{len(data)} bytes that are not UTF-8 text"
            ) from None

    def _write(self, text: str, secret_stored: bool) -> tuple[int, ...]:
        target = Path(self.file_path)
        directory = target.parent
        owner: tuple[int, int] | None = None
        try:
            existing = os.stat(target)
        except FileNotFoundError:
            mode = 0o600 if secret_stored else 0o644
        else:
            mode = stat.S_IMODE(existing.st_mode)
            owner = (existing.st_uid, existing.st_gid)
            if secret_stored:
                mode &= ~0o007  # others lose access to the digests; the owner and group keep theirs
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                tmp.write(text)
                tmp.flush()
                os.fsync(tmp.fileno())
                if owner is not None:
                    # The app that reads the file must still be able to: a write by
                    # another user (root running the CLI) keeps the owner and group.
                    with contextlib.suppress(PermissionError):
                        os.fchown(tmp.fileno(), *owner)
                os.fchmod(tmp.fileno(), mode)
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
        return InvalidStateValueError(error.raw, error.reason, what=error.what)
    if isinstance(error, StateFileMissingError):
        return StateFileMissingError(error.path, error.how)
    try:
        return type(error)(*error.args)
    except Exception:
        return error
