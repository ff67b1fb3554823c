"""Force maintenance mode on or off for a handler, a controller or a router, or
put them in maintenance groups.

Litestar's own way is the ``opt`` key ``maintenance_mode`` (``"on"`` or
``"off"``) on any layer, inherited by the handlers below it, the closest layer
winning. The decorators write that key, or, placed below the route decorator,
mark the function the handler will wrap, which counts as the handler's own layer.

A handler's maintenance groups are its OpenAPI tags (``tags=`` on any layer,
added up as Litestar does) and the names in the ``opt`` key
``maintenance_group`` (one name or a list of names) on any layer. Unlike
``maintenance_mode``, groups add up: a handler is in the groups of every layer
above it, where Litestar's merged ``opt`` would keep only the closest layer's
value. :func:`maintenance_group` writes that key, or, placed below the route
decorator, marks the function. Group names are case-sensitive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar.controller import Controller
from litestar.handlers.base import BaseRouteHandler
from litestar.router import Router
from maintenance_core.coverage import normalize_groups
from maintenance_core.markers import ForcedMode, mark
from maintenance_core.markers import maintenance_group as _mark_groups

__all__ = [
    "GROUP_OPT_KEY",
    "OPT_KEY",
    "force_maintenance_mode_off",
    "force_maintenance_mode_on",
    "maintenance_group",
    "parse_groups",
]

OPT_KEY = "maintenance_mode"
"""The ``opt`` key the adapter reads: ``"on"`` or ``"off"``."""

GROUP_OPT_KEY = "maintenance_group"
"""The ``opt`` key of a layer's maintenance groups: one name or a list of names."""

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


def maintenance_group(*names: str) -> Callable[[HandlerT], HandlerT]:
    """Put this handler (or every handler of this controller or router) in
    maintenance groups, besides the groups of its tags.

    ``@maintenance_group("payments")``: maintenance limited to the ``payments``
    group (``set_maintenance_mode(True, groups=["payments"])``, CLI
    ``on --group payments``) answers these handlers' requests. Above the route
    decorator, or on a ``Controller`` class or a ``Router``, it adds the names to
    the layer's ``opt={"maintenance_group": [...]}``; below the route decorator it
    marks the function. Decorating again adds groups; the target is returned
    unchanged. Websocket and ASGI handlers have no OpenAPI tags: this marker (or
    the ``opt`` key) is how they join a group.

    Raises:
        ValueError: for no name, or a name that is empty, too long or not text,
            or when the layer's ``opt`` already holds an invalid group value.
    """
    mark_function = _mark_groups(*names)
    groups = normalize_groups(names)

    def decorate(target: HandlerT) -> HandlerT:
        layer: Any = target
        if isinstance(layer, (BaseRouteHandler, Router)):
            layer.opt[GROUP_OPT_KEY] = _added(layer.opt.get(GROUP_OPT_KEY), groups)
            return target
        if isinstance(layer, type) and issubclass(layer, Controller):
            own = getattr(layer, "opt", None)
            opt = dict(own) if isinstance(own, dict) else {}
            opt[GROUP_OPT_KEY] = _added(opt.get(GROUP_OPT_KEY), groups)
            setattr(layer, "opt", opt)  # noqa: B010
            return target
        return mark_function(target)

    return decorate


def parse_groups(value: object) -> frozenset[str]:
    """Read the ``opt`` value of :data:`GROUP_OPT_KEY`: one name, or a list, tuple or
    set of names.

    Raises:
        ValueError: for anything else, or an invalid name (the message never
            repeats a name).
    """
    if isinstance(value, (str, list, tuple, set, frozenset)):
        return normalize_groups(value)
    raise ValueError(
        f"Invalid {GROUP_OPT_KEY} option: a {type(value).__name__}; give a group name "
        "or a list of group names."
    )


def _added(current: object, groups: frozenset[str]) -> list[str]:
    """The ``opt`` value holding the groups of *current* (a name or names) and *groups*."""
    existing = parse_groups(current) if current is not None else frozenset()
    return sorted(existing | groups)
