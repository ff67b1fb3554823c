"""Force maintenance mode on or off for a handler, a controller or a router.

Litestar's own way is the ``opt`` key ``maintenance_mode`` (``"on"`` or
``"off"``) on any layer, inherited by the handlers below it, the closest layer
winning. The decorators write that key, or, placed below the route decorator,
mark the function the handler will wrap, which counts as the handler's own layer.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar.controller import Controller
from litestar.handlers.base import BaseRouteHandler
from litestar.router import Router
from maintenance_core.markers import ForcedMode, mark

__all__ = ["OPT_KEY", "force_maintenance_mode_off", "force_maintenance_mode_on"]

OPT_KEY = "maintenance_mode"
"""The ``opt`` key the adapter reads: ``"on"`` or ``"off"``."""

HandlerT = TypeVar("HandlerT")


def _set(target: HandlerT, mode: ForcedMode) -> HandlerT:
    layer: Any = target
    if isinstance(layer, (BaseRouteHandler, Router)):
        layer.opt[OPT_KEY] = mode.value
        return target
    if isinstance(layer, type) and issubclass(layer, Controller):
        # A Controller without its own opt has only the __slots__ descriptor here.
        own = getattr(layer, "opt", None)
        setattr(layer, "opt", {**(own if isinstance(own, dict) else {}), OPT_KEY: mode.value})  # noqa: B010
        return target
    return mark(target, mode)


def force_maintenance_mode_on(handler: HandlerT) -> HandlerT:
    """Always answer this handler (or every handler of this controller) with the
    maintenance response. Works above or below the route decorator."""
    return _set(handler, ForcedMode.ON)


def force_maintenance_mode_off(handler: HandlerT) -> HandlerT:
    """Keep this handler (or every handler of this controller) reachable during
    maintenance. Works above or below the route decorator."""
    return _set(handler, ForcedMode.OFF)
