"""Per-handler markers: ``force_maintenance_mode_on``, ``force_maintenance_mode_off``
and ``maintenance_group``.

A marker is an attribute set on the handler object itself (no wrapper), so
frameworks that inspect the handler's signature see the original function, and
the decorator works whether it is placed above or below a route decorator that
returns the function it was given.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from .coverage import normalize_groups

__all__ = [
    "GROUPS_ATTRIBUTE",
    "MARKER_ATTRIBUTE",
    "ForcedMode",
    "force_maintenance_mode_off",
    "force_maintenance_mode_on",
    "forced_mode_of",
    "groups_of",
    "maintenance_group",
    "mark",
    "parse_forced_mode",
]

MARKER_ATTRIBUTE = "__maintenance_mode__"
"""Name of the attribute the decorators set on a handler."""

GROUPS_ATTRIBUTE = "__maintenance_groups__"
"""Name of the attribute :func:`maintenance_group` sets on a handler."""

HandlerT = TypeVar("HandlerT")


class ForcedMode(str, enum.Enum):
    """What a handler's marker asks for, whatever the global state."""

    ON = "on"
    OFF = "off"


def mark(handler: HandlerT, mode: ForcedMode) -> HandlerT:
    """Set *mode* as the marker of *handler* (a function, class or callable object)."""
    target: Any = getattr(handler, "__func__", handler)  # bound methods share their function
    try:
        setattr(target, MARKER_ATTRIBUTE, mode)
    except (AttributeError, TypeError):
        raise TypeError(
            f"Cannot mark {handler!r}: it does not accept attributes. Decorate the function "
            "itself (def or async def), a class, or a callable object."
        ) from None
    return handler


def force_maintenance_mode_on(handler: HandlerT) -> HandlerT:
    """Always answer this handler's requests with the maintenance response.

    Works on sync and async HTTP and websocket handlers. The handler is returned
    unchanged, only marked.
    """
    return mark(handler, ForcedMode.ON)


def force_maintenance_mode_off(handler: HandlerT) -> HandlerT:
    """Keep this handler reachable while maintenance mode is on.

    Works on sync and async HTTP and websocket handlers. The handler is returned
    unchanged, only marked.
    """
    return mark(handler, ForcedMode.OFF)


def maintenance_group(*names: str) -> Callable[[HandlerT], HandlerT]:
    """Put this handler in maintenance groups, besides the groups of its tags.

    ``@maintenance_group("payments")``: maintenance limited to the ``payments``
    group (``set_maintenance_mode(True, groups=["payments"])``, CLI
    ``on --group payments``) answers this handler's requests. Decorating again
    adds groups. The handler is returned unchanged, only marked.

    Raises:
        ValueError: for no name, or a name that is empty, too long or not text.
    """
    groups = normalize_groups(names)
    if not groups:
        raise ValueError("maintenance_group() needs at least one group name.")

    def decorate(handler: HandlerT) -> HandlerT:
        target: Any = getattr(handler, "__func__", handler)
        try:
            setattr(target, GROUPS_ATTRIBUTE, groups_of(target) | groups)
        except (AttributeError, TypeError):
            raise TypeError(
                f"Cannot mark {handler!r}: it does not accept attributes. Decorate the "
                "function itself (def or async def), a class, or a callable object."
            ) from None
        return handler

    return decorate


def groups_of(handler: object) -> frozenset[str]:
    """Return the groups :func:`maintenance_group` put *handler* in (empty for none)."""
    groups = getattr(handler, GROUPS_ATTRIBUTE, None)
    return groups if isinstance(groups, frozenset) else frozenset()


def forced_mode_of(handler: object) -> ForcedMode | None:
    """Return the marker carried by *handler*, if any."""
    mode = getattr(handler, MARKER_ATTRIBUTE, None)
    return mode if isinstance(mode, ForcedMode) else None


def parse_forced_mode(value: object) -> ForcedMode:
    """Read a marker given as configuration: ``"on"``/``"off"`` (any case) or a :class:`ForcedMode`.

    Raises:
        ValueError: for anything else, naming the accepted values.
    """
    if isinstance(value, ForcedMode):
        return value
    if isinstance(value, str):
        try:
            return ForcedMode(value.strip().lower())
        except ValueError:
            pass
    raise ValueError(f"Invalid maintenance_mode marker {value!r}: use 'on' or 'off'.")
