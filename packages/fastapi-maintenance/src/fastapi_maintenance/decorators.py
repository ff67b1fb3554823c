"""Decorators that mark one endpoint: force maintenance mode on or off for it, or
put it in maintenance groups.

They mark the endpoint function itself, so they work above or below the route
decorator, on sync and async HTTP and websocket endpoints, and the marker
follows the endpoint wherever it is routed (included routers, prefixes, mounts).

A route's maintenance groups are its OpenAPI tags (``tags=`` on the route, its
``APIRouter`` and ``include_router()``) and the names given with
:func:`maintenance_group`; maintenance limited to groups
(``set_maintenance_mode(True, groups=["payments"])``) answers only the routes in
one of them. Group names are case-sensitive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from maintenance_core.markers import (
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)
from maintenance_core.markers import maintenance_group as _maintenance_group

__all__ = ["force_maintenance_mode_off", "force_maintenance_mode_on", "maintenance_group"]

HandlerT = TypeVar("HandlerT")


def maintenance_group(*names: str) -> Callable[[HandlerT], HandlerT]:
    """Put this endpoint in maintenance groups, besides the groups of its tags.

    ``@maintenance_group("payments")``: maintenance limited to the ``payments``
    group (``set_maintenance_mode(True, groups=["payments"])``, CLI
    ``on --group payments``) answers this endpoint's requests. Works above or
    below the route decorator, on functions, ``HTTPEndpoint`` classes and their
    methods (the method's groups add to the class's) and websocket endpoints.
    Decorating again adds groups; the endpoint is returned unchanged, only marked.
    The groups are read when the app routes its first request (and again after
    its routes change), as the routes' tags are.

    Raises:
        ValueError: for no name, or a name that is empty, too long or not text.
    """
    return _maintenance_group(*names)
