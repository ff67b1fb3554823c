"""The Litestar side of the core's adapter protocol.

Litestar runs app middleware after routing, with the handler in
``scope["route_handler"]``: requests for unknown paths or methods never reach
the middleware, so they keep Litestar's 404/405 without any lookup here.

By then Litestar has replaced ``scope["path"]`` with the path it routed on
(without ``root_path``, with ``//`` collapsed and no trailing ``/``), and for a
mounted ASGI app (``@asgi(..., is_mount=True)``) with the path *below* the
mount (``/legacy/health`` becomes ``/health/``). :meth:`routing_path` puts the
mount path back, so exemptions match the path the client sent.

A handler's maintenance groups are worked out once, with its marker: the tags
Litestar resolves for an HTTP handler (``resolve_tags()``, the tags of every
layer), the ``maintenance_group`` marker on its function, and the
``opt={"maintenance_group": ...}`` of every layer (the app, routers,
controllers and the handler), added up rather than merged as Litestar merges
``opt``: the handler's own ``opt`` holds only the closest layer's value, so each
layer's own ``opt`` is read too.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from litestar.connection import ASGIConnection, Request, WebSocket
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Response
from maintenance_core.adapter import (
    PLAIN_ROUTE,
    Adapter,
    ForcedMode,
    Receive,
    RouteInfo,
    Scope,
    Send,
    forced_mode_of,
    groups_of,
    parse_forced_mode,
)

from .decorators import GROUP_OPT_KEY, OPT_KEY, parse_groups

__all__ = ["LitestarAdapter"]

logger = logging.getLogger("litestar_maintenance")

_FORCED_ON = RouteInfo(exists=True, forced=ForcedMode.ON)
_FORCED_OFF = RouteInfo(exists=True, forced=ForcedMode.OFF)
_EXEMPT = RouteInfo(exists=True, exempt=True)
# Litestar serves its OpenAPI schema and documentation pages from handlers defined here.
_OPENAPI_MODULES = ("litestar._openapi.", "litestar.openapi.")


def _user_functions(handler: BaseRouteHandler) -> list[object]:
    """The handler's function and what Litestar wrapped around it.

    Litestar may replace ``handler.fn`` when it builds the app (``AsyncCallable``
    for ``sync_to_thread``, ``ListenerHandler`` for websocket listeners); a
    marker set below the route decorator sits on the function inside.
    """
    found: list[object] = []
    candidate: object = getattr(handler, "fn", None)
    while candidate is not None and len(found) < 4:
        found.append(candidate)
        candidate = next(
            (
                inner
                for name in ("func", "_fn", "__wrapped__")
                if (inner := getattr(candidate, name, None)) is not None
                and inner is not candidate
                and callable(inner)
            ),
            None,
        )
    return found


def _route_info(handler: BaseRouteHandler, reported: set[int]) -> RouteInfo:
    functions = _user_functions(handler)
    forced = next((mode for f in functions if (mode := forced_mode_of(f)) is not None), None)
    if forced is None and OPT_KEY in handler.opt:
        try:
            forced = parse_forced_mode(handler.opt[OPT_KEY])
        except ValueError as exc:
            logger.error("%s Ignored on handler %s.", exc, handler)
    if forced is ForcedMode.ON:
        return _FORCED_ON
    if forced is ForcedMode.OFF:
        return _FORCED_OFF
    if any(getattr(f, "__module__", "").startswith(_OPENAPI_MODULES) for f in functions):
        return _EXEMPT
    groups = _tags_of(handler) | _opt_groups(handler, reported)
    for function in functions:
        groups |= groups_of(function)
    return RouteInfo(exists=True, groups=groups) if groups else PLAIN_ROUTE


def _tags_of(handler: BaseRouteHandler) -> frozenset[str]:
    """The OpenAPI tags of an HTTP handler, from every layer; other handlers have none."""
    resolve_tags = getattr(handler, "resolve_tags", None)
    if resolve_tags is None:
        return frozenset()
    return frozenset(tag for tag in resolve_tags() or () if isinstance(tag, str))


def _opt_groups(handler: BaseRouteHandler, reported: set[int]) -> frozenset[str]:
    """The groups named in the ``maintenance_group`` option of every layer of *handler*.

    An invalid value is logged once per layer and ignored.
    """
    values: list[tuple[object, object]] = []
    layers: list[Any] = getattr(handler, "ownership_layers", None) or [handler]
    for layer in layers[:-1]:
        opt = getattr(layer, "opt", None)
        if isinstance(opt, dict) and GROUP_OPT_KEY in opt:
            values.append((layer, opt[GROUP_OPT_KEY]))
    if GROUP_OPT_KEY in handler.opt:
        # The handler's opt is merged: its own value, or the closest layer's (seen above).
        value = handler.opt[GROUP_OPT_KEY]
        if not any(value is seen for _, seen in values):
            values.append((handler, value))
    groups: frozenset[str] = frozenset()
    for owner, value in values:
        try:
            groups |= parse_groups(value)
        except ValueError as exc:
            if id(owner) not in reported:
                reported.add(id(owner))
                logger.error("%s Ignored on %s.", exc, _describe_layer(owner))
    return groups


def _describe_layer(layer: object) -> str:
    if isinstance(layer, BaseRouteHandler):
        paths = getattr(layer, "paths", None) or ()
        return f"handler {layer} ({', '.join(sorted(paths))})" if paths else f"handler {layer}"
    path = getattr(layer, "path", None)
    kind = type(layer).__name__
    return f"{kind} {path!r}" if isinstance(path, str) else kind


def _litestar_normal(path: str) -> str:
    # What litestar.utils.normalize_path does before routing.
    return "/" + "/".join(segment for segment in path.split("/") if segment)


def _closest_to_raw_path(scope: Scope, candidates: list[str]) -> str:
    """Of the paths a handler mounted at several paths may have been reached at, the
    one the client sent (``raw_path``, which may carry a root path in front)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        sent = _litestar_normal(unquote(raw.split(b"?", 1)[0].decode("latin-1")))
        for candidate in sorted(candidates, key=len, reverse=True):
            normal = _litestar_normal(candidate)
            if sent == normal or sent.endswith(normal if normal != "/" else ""):
                return candidate
    return candidates[0]


class LitestarAdapter(Adapter):
    """Handler markers, request objects and responses for Litestar apps."""

    def __init__(self) -> None:
        # Handlers are fixed once the app is built: their route info is worked out once.
        self._known: dict[int, tuple[BaseRouteHandler, RouteInfo]] = {}
        self._reported: set[int] = set()  # layers whose invalid group option was logged
        self._mounts: dict[int, tuple[BaseRouteHandler, tuple[str, ...]]] = {}

    def resolve_route(self, scope: Scope) -> RouteInfo:
        handler = scope.get("route_handler")
        if handler is None:
            return PLAIN_ROUTE
        known = self._known.get(id(handler))
        if known is not None and known[0] is handler:
            return known[1]
        info = _route_info(handler, self._reported)
        self._known[id(handler)] = (handler, info)
        return info

    def may_force_on(self, scope: Scope) -> bool:
        # Litestar has routed already: whether the handler is forced on is known, and
        # worked out once per handler (asked on every request: no call in between).
        handler = scope.get("route_handler")
        known = self._known.get(id(handler))
        if known is None or known[0] is not handler:
            return self.resolve_route(scope).forced is ForcedMode.ON
        return known[1].forced is ForcedMode.ON

    def routing_path(self, scope: Scope) -> str:
        """The path Litestar routed on: ``scope["path"]``, with the mount path put
        back in front for a mounted ASGI app."""
        path: str = scope.get("path") or "/"
        handler = scope.get("route_handler")
        if handler is None or not getattr(handler, "is_mount", False):
            return path
        rest = path.rstrip("/")  # Litestar adds a "/" below a mount, never to a routed path
        candidates = [
            mount + rest if mount != "/" else "/" + rest.lstrip("/")
            for mount in self._mount_paths(scope, handler)
        ]
        if len(candidates) == 1:
            return candidates[0]
        return _closest_to_raw_path(scope, candidates) if candidates else path

    def _mount_paths(self, scope: Scope, handler: BaseRouteHandler) -> tuple[str, ...]:
        """The full paths *handler* is mounted at, from the app's routes; worked out once."""
        known = self._mounts.get(id(handler))
        if known is not None and known[0] is handler:
            return known[1]
        app = scope.get("litestar_app") or scope.get("app")
        mounts = tuple(
            sorted(
                route.path
                for route in getattr(app, "routes", ())
                if getattr(route, "route_handler", None) is handler
            )
        )
        self._mounts[id(handler)] = (handler, mounts)
        return mounts

    def connection(
        self, scope: Scope, receive: Receive, send: Send
    ) -> ASGIConnection[Any, Any, Any, Any]:
        if scope["type"] == "http":
            return Request(scope, receive, send)  # type: ignore[arg-type]
        return WebSocket(scope, receive, send)  # type: ignore[arg-type]

    def is_response(self, value: object) -> bool:
        return isinstance(value, Response)

    async def send_response(
        self, response: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive, send)  # type: ignore[arg-type]
        # The core already strips the body of a HEAD answer; Litestar would refuse
        # a HEAD response that has content.
        asgi_response = response.to_asgi_response(app=None, request=request)
        await asgi_response(scope, receive, send)
