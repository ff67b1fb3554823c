"""``EnvVarBackend``: the state in an environment variable (read-only)."""

from __future__ import annotations

import os
from typing import ClassVar

from .._log import get_logger
from ..errors import InvalidStateValueError
from ..events import announce_change, announce_problem
from ..state import OFF, MaintenanceState
from .base import StateBackend

__all__ = ["EnvVarBackend"]


_UNREAD = object()


def _encoded_key(environ: object, name: str) -> object:
    """*name* as *environ* (an ``os._Environ``) stores its keys (bytes on POSIX)."""
    try:
        return environ.encodekey(name)  # type: ignore[attr-defined]
    except Exception:  # a name it cannot encode: it is not in the environment
        return name


def _decoded(environ: object, raw: object) -> str:
    """The text of a raw value read from *environ* (``""`` when unset)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    return str(environ.decodevalue(raw))  # type: ignore[attr-defined]


class EnvVarBackend(StateBackend):
    """Read the state from an environment variable (read-only).

    The variable is looked up on every read, as fastapi-maintenance 0.0.5 did,
    so a test that changes it with ``monkeypatch.setenv`` sees the change on the
    next request. Looking it up is a dictionary read; the value is parsed once
    per distinct text.

    An unrecognised value is logged as a warning, once per value, and read as
    off: a typo in the environment never turns into an error for a request or
    a caller of ``get_maintenance_mode()``.

    Args:
        var_name: The variable to read. ``None`` uses the adapter's default
            (``FASTAPI_MAINTENANCE_MODE`` for FastAPI).
    """

    writable: ClassVar[bool] = False
    default_var_name: ClassVar[str] = "MAINTENANCE_MODE"
    log_namespace: ClassVar[str | None] = None
    """The logger namespace of this class's warnings (an adapter's subclass sets its own)."""

    def __init__(self, var_name: str | None = None) -> None:
        self.var_name = var_name or self.default_var_name
        # os.environ keeps the process environment in a dict of encoded keys and
        # values (its _data, what os.environ[...] = and monkeypatch.setenv update):
        # reading it directly costs a dict lookup, a tenth of os.environ.get(),
        # which encodes the key and decodes the value each time. Any other
        # mapping put in place of os.environ is read through its own get().
        self._environ: object = None  # the os.environ object self._key was encoded for
        self._key: object = None
        self._raw: object = _UNREAD
        self._state: MaintenanceState = OFF

    async def get_state(self) -> MaintenanceState:
        """The variable's state: a boolean word, or the JSON form with a window."""
        environ = os.environ
        data = getattr(environ, "_data", None) if type(environ) is os._Environ else None
        if data is None:
            raw = environ.get(self.var_name)
        else:
            if environ is not self._environ:  # os.environ was replaced, or first read
                self._key = _encoded_key(environ, self.var_name)
                self._environ = environ
            raw = data.get(self._key)
        if raw is not self._raw and raw != self._raw:
            old, self._state = self._state, self._parse(_decoded(environ, raw))
            if self._raw is not _UNREAD:  # the first read learns the state: no change
                announce_change(self, old, self._state, "local")
            self._raw = raw
        return self._state

    def _parse(self, raw: str) -> MaintenanceState:
        try:
            return MaintenanceState.from_text(raw)
        except InvalidStateValueError as exc:
            announce_problem(self, exc)
            # The value is not echoed: a misplaced secret must not land in the log.
            get_logger("backends", self.log_namespace).warning(
                "The environment variable %s holds an unrecognised value (%d characters): "
                "expected one of 1/yes/y/true/t/on or 0/no/n/false/f/off. Maintenance mode "
                "is off until it is fixed.",
                self.var_name,
                len(raw),
            )
            return OFF

    async def set_state(self, state: MaintenanceState) -> None:
        """Log a warning and change nothing: the environment is fixed at startup."""
        get_logger("backends", self.log_namespace).warning(
            "Cannot set maintenance mode through the environment variable %s: it is "
            "read-only at runtime. Set it before starting the app, or use a writable "
            "backend (file, redis).",
            self.var_name,
        )

    def describe(self) -> str:
        return f"env: {self.var_name}"
