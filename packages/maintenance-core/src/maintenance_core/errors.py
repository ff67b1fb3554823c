"""Exceptions raised by maintenance-core, each saying what is wrong and how to fix it."""

from __future__ import annotations

__all__ = [
    "BackendReadOnlyError",
    "InvalidStateValueError",
    "MaintenanceError",
    "UnknownBackendError",
]


class MaintenanceError(Exception):
    """Base class of every error raised by maintenance-core."""


class InvalidStateValueError(MaintenanceError, ValueError):
    """A stored state is not a recognised boolean word."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        super().__init__(
            f"Invalid maintenance state value {raw!r}: expected one of "
            "1/yes/y/true/t/on or 0/no/n/false/f/off (case-insensitive), or empty for off."
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
