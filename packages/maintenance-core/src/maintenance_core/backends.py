"""Where the maintenance switch is stored.

A backend answers one question, "is maintenance on?", and, when it is writable,
lets you change the answer. Backends know nothing about requests, routes or
overrides; precedence is decided in :mod:`maintenance_core.decision`.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio.to_thread

from ._mutex import Mutex
from .errors import (
    BackendReadOnlyError,
    InvalidStateValueError,
    StateNotSupportedError,
    StateWriteError,
)
from .state import OFF, ON, MaintenanceState, parse_flag

if TYPE_CHECKING:
    from .overrides import OverrideStore
    from .redis_backend import RedisBackend

__all__ = [
    "BaseStateBackend",
    "EnvVarBackend",
    "LocalFileBackend",
    "MemoryBackend",
    "RedisBackend",
    "parse_state",
]

logger = logging.getLogger("maintenance_core")


def parse_state(raw: str) -> bool:
    """Turn a stored text value into a maintenance state.

    Accepts, case-insensitively and ignoring surrounding whitespace,
    ``1 yes y true t on`` for on and ``0 no n false f off`` (or an empty value)
    for off.

    Raises:
        InvalidStateValueError: for anything else.
    """
    return parse_flag(raw)


class BaseStateBackend(ABC):
    """Base class for maintenance state storage.

    Subclasses implement :meth:`get_value` and :meth:`set_value`. A backend that
    cannot be changed at runtime sets :attr:`writable` to ``False``; overrides on
    such a backend are then held in memory instead of being written.

    A backend that can also store a maintenance window and a bypass secret
    implements :meth:`get_state` and :meth:`set_state` (the built-in ones do);
    one that does not keeps working for plain on/off and raises
    :class:`~maintenance_core.errors.StateNotSupportedError` when asked to
    store more.
    """

    writable: ClassVar[bool] = True
    """Whether :meth:`set_value` really stores the value."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass (of a built-in backend, say) that customises get_value or
        # set_value but not the state methods expects its own methods to be used.
        own = vars(cls)
        if "get_value" in own and "get_state" not in own:
            cls.get_state = BaseStateBackend.get_state  # type: ignore[method-assign]
            if "read_now" not in own:
                cls.read_now = BaseStateBackend.read_now  # type: ignore[method-assign]
            if "read_state_now" not in own:
                cls.read_state_now = BaseStateBackend.read_state_now  # type: ignore[method-assign]
        if "set_value" in own and "set_state" not in own:
            cls.set_state = BaseStateBackend.set_state  # type: ignore[method-assign]

    @staticmethod
    def _str_to_bool(value: str) -> bool:
        """Parse a stored text value (see :func:`parse_state`)."""
        return parse_state(value)

    @staticmethod
    def _bool_to_str(value: bool) -> str:
        """Serialise a state as ``"1"`` or ``"0"``."""
        return "1" if value else "0"

    @abstractmethod
    async def get_value(self) -> bool:
        """Return the stored maintenance state."""

    @abstractmethod
    async def set_value(self, value: bool) -> None:
        """Store a maintenance state."""

    async def get_state(self) -> MaintenanceState:
        """Return the stored state with its window and bypass secret, if any.

        The default wraps :meth:`get_value`: a plain on/off state.
        """
        return ON if await self.get_value() else OFF

    async def set_state(self, state: MaintenanceState) -> None:
        """Store a state with its window and bypass secret.

        The default stores plain on/off states with :meth:`set_value`.

        Raises:
            StateNotSupportedError: for a state with a window or a bypass secret.
        """
        if not state.is_plain and self.writable:
            raise StateNotSupportedError(self.describe())
        await self.set_value(state.on)

    @property
    def stores_full_state(self) -> bool:
        """Whether :meth:`set_state` stores windows and bypass secrets (not only on/off)."""
        return type(self).set_state is not BaseStateBackend.set_state

    async def read_now(self) -> bool:
        """Read the stored state from its source, bypassing any cache, raising on errors.

        Requests use :meth:`get_value`, which may answer from memory.
        """
        return await self.get_value()

    async def read_state_now(self) -> MaintenanceState:
        """Like :meth:`read_now`, with the window and bypass secret (the CLI uses this)."""
        return ON if await self.read_now() else OFF

    def describe(self) -> str:
        """A short human-readable description, used in logs and by the CLI."""
        return type(self).__name__

    def create_override_store(self) -> OverrideStore:
        """Where ``maintenance_mode_on()``/``off()`` overrides on this backend are kept.

        Called once per backend instance. The default counts them in this
        process and writes the effective state to writable backends; a shared
        backend may return a store that every process sees.
        """
        from .overrides import OverrideState

        return OverrideState()


class EnvVarBackend(BaseStateBackend):
    """Read the state from an environment variable (read-only).

    The variable is read and parsed once, at the first read: the environment of
    a running process does not change, and requests pay nothing for it.

    Args:
        var_name: The variable to read. ``None`` uses the adapter's default
            (``FASTAPI_MAINTENANCE_MODE`` for FastAPI).
    """

    writable: ClassVar[bool] = False
    default_var_name: ClassVar[str] = "MAINTENANCE_MODE"

    def __init__(self, var_name: str | None = None) -> None:
        self.var_name = var_name or self.default_var_name
        self._raw: str | None = None
        self._state: MaintenanceState | None = None

    async def get_value(self) -> bool:
        """The variable's state; unset or empty means off.

        Raises:
            InvalidStateValueError: if the variable holds an unrecognised value.
        """
        return (await EnvVarBackend.get_state(self)).is_on_now()

    async def get_state(self) -> MaintenanceState:
        """The variable's state: a boolean word, or the JSON form with a window."""
        state = self._state
        if state is not None:
            return state
        if self._raw is None:
            self._raw = os.environ.get(self.var_name, "")
        self._state = MaintenanceState.from_text(self._raw)  # a fresh error for a bad value
        return self._state

    async def read_now(self) -> bool:
        return (await EnvVarBackend.read_state_now(self)).is_on_now()

    async def read_state_now(self) -> MaintenanceState:
        return MaintenanceState.from_text(os.environ.get(self.var_name, ""))

    async def set_state(self, state: MaintenanceState) -> None:
        """Log a warning and change nothing (see :meth:`set_value`)."""
        await self.set_value(state.on)

    async def set_value(self, value: bool) -> None:
        """Log a warning and change nothing: the environment is fixed at startup."""
        logger.warning(
            "Cannot set maintenance mode through the environment variable %s: it is "
            "read-only at runtime. Set it before starting the app, or use a writable "
            "backend (file, redis).",
            self.var_name,
        )

    def describe(self) -> str:
        return f"env: {self.var_name}"


class LocalFileBackend(BaseStateBackend):
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

    async def get_value(self) -> bool:
        """Whether maintenance is on now, from the file, re-read only when it changed.

        Raises:
            InvalidStateValueError: if the file holds an unrecognised value.
            OSError: if the file exists but cannot be read.
        """
        # Not self.get_state(): a subclass wrapping get_value routes get_state here.
        return (await LocalFileBackend.get_state(self)).is_on_now()

    async def get_state(self) -> MaintenanceState:
        """The file's state, re-read only when the file changed (see the class docs)."""
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

    async def read_now(self) -> bool:
        return (await LocalFileBackend.read_state_now(self)).is_on_now()

    async def read_state_now(self) -> MaintenanceState:
        self._checked_at = float("-inf")
        self._stamp = None
        return await self.get_state()

    async def set_value(self, value: bool) -> None:
        """Atomically replace the file with ``"1"`` or ``"0"``."""
        await LocalFileBackend.set_state(self, ON if value else OFF)

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


class MemoryBackend(BaseStateBackend):
    """Keep the state in this process's memory (tests, single-process apps).

    Args:
        value: The initial state.
    """

    def __init__(self, value: bool = False) -> None:
        self._state = ON if value else OFF

    async def get_value(self) -> bool:
        return self._state.is_on_now()

    async def set_value(self, value: bool) -> None:
        self._state = ON if value else OFF

    async def get_state(self) -> MaintenanceState:
        return self._state

    async def set_state(self, state: MaintenanceState) -> None:
        self._state = state

    def describe(self) -> str:
        return "memory"


def require_storable(backend: BaseStateBackend, state: MaintenanceState) -> None:
    """Raise :class:`StateNotSupportedError` if *backend* cannot store *state*."""
    if not state.is_plain and backend.writable and not backend.stores_full_state:
        raise StateNotSupportedError(backend.describe())


def require_writable(backend: BaseStateBackend) -> None:
    """Raise :class:`BackendReadOnlyError` if *backend* cannot store a value."""
    if not backend.writable:
        raise BackendReadOnlyError(backend.describe())


def __getattr__(name: str) -> object:
    # RedisBackend needs the optional redis package: import it only when asked for.
    if name == "RedisBackend":
        from .redis_backend import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
