"""Exceptions raised by maintenance-core, each saying what is wrong and how to fix it."""

from __future__ import annotations

__all__ = [
    "BackendReadOnlyError",
    "ConfigurationError",
    "InvalidBypassSecretError",
    "InvalidStateValueError",
    "InvalidWindowError",
    "MaintenanceError",
    "StateFileMissingError",
    "StateNotSupportedError",
    "StateWriteError",
    "UnknownBackendError",
]


class MaintenanceError(Exception):
    """Base class of every error raised by maintenance-core."""


class ConfigurationError(MaintenanceError, ValueError, TypeError):
    """An option given to the middleware, plugin or guard is of the wrong type or value.

    Raised when the configuration is built, never at the first request. It is a
    ``ValueError`` and a ``TypeError`` too, so code written for the built-in
    exceptions keeps working, and ``except MaintenanceError`` catches it.
    """


class InvalidStateValueError(MaintenanceError, ValueError):
    """A stored state is neither a recognised boolean word nor a valid state object.

    The message describes the value (its length, what is wrong with it) but never
    repeats it: a state file may be a symlink to a file of secrets, and a stored
    state may hold a bypass secret's digests.
    """

    def __init__(self, raw: str, reason: str | None = None, *, what: str | None = None) -> None:
        self.raw = raw
        self.reason = reason
        self.what = what or f"{len(raw)} characters"
        super().__init__(
            f"Invalid maintenance state value ({self.what}): "
            + (f"{reason.rstrip('.')}. " if reason else "")
            + "Expected one of 1/yes/y/true/t/on or 0/no/n/false/f/off (case-insensitive), "
            "empty for off, or the JSON object written by set_maintenance_mode()."
        )

    @classmethod
    def describing(cls, what: str) -> InvalidStateValueError:
        """An error for a value that is not even text worth keeping (too large, not UTF-8)."""
        return cls("", None, what=what)


class StateFileMissingError(MaintenanceError, FileNotFoundError):
    """A state file that held a state is now missing or empty: a fault, not "off"."""

    def __init__(self, path: str, how: str = "missing") -> None:
        self.path = path
        self.how = how
        super().__init__(
            f"The state file {path} is {how}, but it held a state before (deleted, "
            "truncated, or its directory removed?). To switch maintenance off, store off "
            "(set_maintenance_mode(False), the CLI's off, or write 0) instead."
        )


class InvalidWindowError(MaintenanceError, ValueError):
    """A maintenance window's bounds are malformed or make no sense."""


class InvalidBypassSecretError(MaintenanceError, ValueError):
    """A bypass secret is too weak or malformed."""


class StateNotSupportedError(MaintenanceError):
    """A backend was asked to store a window, a bypass secret or partial maintenance
    (read-only, groups) it cannot store."""

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(
            f"The {description} backend stores only on/off: it cannot store a maintenance "
            "window, a bypass secret or read-only/grouped maintenance. Use a built-in "
            "backend (file, redis, memory), or "
            "implement get_state() and set_state() in your backend."
        )


class UnknownBackendError(MaintenanceError, ValueError):
    """``configure_backend`` was given a name it does not know."""

    def __init__(self, name: str, choices: tuple[str, ...]) -> None:
        self.name = name
        self.choices = choices
        super().__init__(
            f"Unsupported backend type {name!r}: choose one of "
            + ", ".join(repr(choice) for choice in choices)
            + "."
        )


class BackendReadOnlyError(MaintenanceError):
    """A state change was asked of a backend that cannot store one."""

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(
            f"The {description} backend is read-only: its state cannot be changed at runtime. "
            "Use a writable backend such as the file backend."
        )


class StateWriteError(MaintenanceError, OSError):
    """The state could not be written where the backend stores it."""

    def __init__(self, where: str, cause: OSError) -> None:
        self.where = where
        reason = cause.strerror or str(cause) or type(cause).__name__
        super().__init__(
            f"Cannot write the maintenance state to {where}: {reason}. Check that the "
            "directory exists and that this process may create and replace files in it "
            "(the state is written to a temporary file next to it, then renamed)."
        )
