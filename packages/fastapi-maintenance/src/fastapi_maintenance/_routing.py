"""Which endpoint a request reaches, found with the router's own ``matches()``.

A marker belongs to the endpoint the router would put in ``scope["endpoint"]``,
so the lookup asks each route exactly what the router asks it, in the router's
order, and follows mounts into sub-applications. Nothing is matched by path
text here, so prefixes, nested routers, ``root_path`` and path converters behave
as the installed Starlette and FastAPI versions route them.

What the router answers itself (404, a partial match's 405, a slash redirect)
is no route: the request passes, so the app answers as it would without the
middleware.

Middleware between the lookup and an app (the app this middleware wraps, or a
mounted one) is seen through by following ``.app``, where Starlette's own and
most ASGI middleware keep the app they wrap. An app that cannot be reached this
way is guarded as a plain route, with one warning.

FastAPI 0.16x keeps included routers as lazy entries whose ``matches()`` hides
the endpoint; its public :func:`fastapi.routing.iter_route_contexts` flattens
them into contexts that do expose it. The flattened list of a router is kept
until its routes change, so routes added after the first request are seen.

A route's maintenance groups are its OpenAPI tags as FastAPI resolves them (the
route's own, its ``APIRouter``'s and every ``include_router(tags=...)`` above
it) and the names of the ``maintenance_group`` marker on its endpoint. Before
0.16x, ``include_router`` copies each route with the merged tags into
``APIRoute.tags``; in 0.16x a route context carries them (the tags of its
effective route). They are found when a router's index is built, once per
route, so a lookup only picks them up; a plain Starlette route has no tags,
only the marker. For an ``HTTPEndpoint`` class, the marker on the method the
request dispatches to adds to the class's.
"""

from __future__ import annotations

import enum
import logging
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from maintenance_core import (
    NO_ROUTE,
    PLAIN_ROUTE,
    ForcedMode,
    RouteInfo,
    forced_mode_of,
    groups_of,
)
from maintenance_core.middleware import Scope
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.routing import Match, Route, Router
from starlette.staticfiles import StaticFiles

_iter_route_contexts: Callable[[list[Any]], Iterable[Any]] | None
try:  # FastAPI >= 0.16x: included routers are lazy entries.
    from fastapi.routing import iter_route_contexts as _iter_route_contexts
except ImportError:  # pragma: no cover - depends on the installed FastAPI
    _iter_route_contexts = None

__all__ = ["RouteResolver"]

logger = logging.getLogger("fastapi_maintenance.routing")

Matcher = Callable[[Scope], "tuple[Match, Scope]"]

_FORCED_ON = RouteInfo(exists=True, forced=ForcedMode.ON)
_FORCED_OFF = RouteInfo(exists=True, forced=ForcedMode.OFF)
_EXEMPT = RouteInfo(exists=True, exempt=True)
_MAX_MOUNT_DEPTH = 16
_MAX_WRAPPER_DEPTH = 32


def _route_info(
    endpoint: object, index: _RouterIndex, scope: Scope, plain: RouteInfo = PLAIN_ROUTE
) -> RouteInfo:
    """What the router reaching *endpoint* means; *plain* is the answer for a route
    without marker or exemption (carrying the route's groups)."""
    forced = forced_mode_of(endpoint)
    if isinstance(endpoint, type) and issubclass(endpoint, HTTPEndpoint):
        # The class dispatches to one of its methods: that method is the endpoint, and
        # its marker is more precise than the class's.
        handler = _handler_of(endpoint, scope["method"])
        if handler is None:
            return NO_ROUTE  # the class answers 405 itself
        forced = forced_mode_of(handler) or forced
        if forced is None:
            plain = index.method_info(plain, handler)
    if forced is ForcedMode.ON:
        return _FORCED_ON
    if forced is ForcedMode.OFF:
        return _FORCED_OFF
    if id(endpoint) in index.docs_endpoints:
        return _EXEMPT
    return plain


def _tags_of(route: object) -> frozenset[str]:
    """The OpenAPI tags FastAPI resolved for *route*: an ``APIRoute`` (with its
    routers' tags merged in, before 0.16x) or a 0.16x route context (whose effective
    route has them). Other routes have none. An ``Enum`` tag counts as its value,
    as it appears in the OpenAPI schema."""
    tags = getattr(route, "tags", None)
    if not tags or not isinstance(tags, (list, tuple, set, frozenset)):
        return frozenset()
    names = set()
    for tag in tags:
        value = tag.value if isinstance(tag, enum.Enum) else tag
        if isinstance(value, str):
            names.add(value)
    return frozenset(names)


def _plain_info(groups: frozenset[str]) -> RouteInfo:
    """The answer for a route without marker or exemption in *groups*."""
    return RouteInfo(exists=True, groups=groups) if groups else PLAIN_ROUTE


def _handler_of(endpoint: type[HTTPEndpoint], method: str) -> object | None:
    """The method HTTPEndpoint.dispatch calls for *method*: HEAD falls back to ``get``."""
    name = "get" if method == "HEAD" and not hasattr(endpoint, "head") else method.lower()
    return getattr(endpoint, name, None)


def _forced_on(endpoint: object) -> bool:
    """Whether *endpoint*, or any method an HTTPEndpoint class dispatches to, is forced on."""
    if forced_mode_of(endpoint) is ForcedMode.ON:
        return True
    if isinstance(endpoint, type) and issubclass(endpoint, HTTPEndpoint):
        return any(
            forced_mode_of(getattr(endpoint, name, None)) is ForcedMode.ON for name in dir(endpoint)
        )
    return False


def _router_of(app: object) -> Router | None:
    if isinstance(app, Starlette):
        return app.router
    if isinstance(app, Router):
        return app
    return None


def _unwrap(app: object) -> Starlette | Router | None:
    """The Starlette app or router *app* is, or wraps as middleware does, in ``.app``."""
    seen: set[int] = set()
    current = app
    while current is not None and id(current) not in seen and len(seen) < _MAX_WRAPPER_DEPTH:
        if isinstance(current, (Starlette, Router)):
            return current
        seen.add(id(current))
        current = getattr(current, "app", None)
    return None


def _mounted(app: object) -> tuple[Router, object] | None:
    """The router a mounted *app* routes with, and the app owning it (for its docs)."""
    target = _unwrap(app)
    router = _router_of(target)
    return None if router is None else (router, target)


def _name(app: object) -> str:
    return str(getattr(app, "__qualname__", None) or type(app).__qualname__)


def _docs_paths(app: object) -> set[str]:
    """The URLs FastAPI serves its own docs at, as this app configures them."""
    paths: set[str] = set()
    openapi_url = getattr(app, "openapi_url", None)
    if not openapi_url:
        return paths
    paths.add(openapi_url)
    docs_url = getattr(app, "docs_url", None)
    if docs_url:
        paths.add(docs_url)
        oauth2_redirect = getattr(app, "swagger_ui_oauth2_redirect_url", None)
        if oauth2_redirect:
            paths.add(oauth2_redirect)
    redoc_url = getattr(app, "redoc_url", None)
    if redoc_url:
        paths.add(redoc_url)
    return paths


class _RouterIndex:
    """The matchers of one router in routing order, and its docs endpoints."""

    __slots__ = (
        "_checks",
        "_count",
        "_method_infos",
        "_routes",
        "docs_endpoints",
        "forced_candidates",
        "low_priority",
        "low_priority_forced",
        "matchers",
        "mounted",
        "quiet",
        "router",
        "routes",
        "targets",
        "unseen",
    )

    def __init__(self, router: Router, owner: object) -> None:
        # Routers may be unhashable (FastAPI's APIRouter): indexes are kept by id,
        # and the weak reference tells a live router from a new one at a reused id.
        self.router = weakref.ref(router)
        self._routes = router.routes
        self._count = len(self._routes)
        self._checks = tuple(
            (versioned, versioned._routes_version)
            for versioned in _versioned_routers(router)
            if hasattr(versioned, "_routes_version")
        )
        entries = _entries(router.routes)
        self.matchers: tuple[Matcher, ...] = tuple(matcher for matcher, _, _, _ in entries)
        # Each matcher with the answer for its route when no marker or exemption decides:
        # the route's groups (its tags, and the marker of its endpoint or mounted app),
        # worked out here once. A mount seen into answers with the route inside it.
        self.routes: tuple[tuple[Matcher, RouteInfo], ...] = tuple(
            (matcher, _plain_info(tags | groups_of(endpoint if endpoint is not None else app)))
            for matcher, endpoint, app, tags in entries
        )
        self._method_infos: dict[tuple[RouteInfo, int], RouteInfo] = {}
        # Mounts (and hosts) put their app, middleware included, in scope["endpoint"]:
        # the app routed inside is found here once, by the id of that object.
        self.targets: dict[int, tuple[Router, object]] = {}
        opaque: list[object] = []
        for _, endpoint, app, _ in entries:
            if endpoint is None and app is not None:
                found = _mounted(app)
                if found is None:
                    opaque.append(app)
                else:
                    self.targets[id(app)] = found
        self.mounted = tuple(self.targets.values())
        # Static files carry no markers and are guarded by design; anything else mounted
        # that cannot be seen into hides its endpoints' markers and its 404s.
        self.unseen = tuple(app for app in opaque if not isinstance(app, StaticFiles))
        # While maintenance is off only forced-on endpoints can refuse a request, and the
        # router reaches an endpoint only through a full match of its own route (or of a
        # mount around it): these matchers are all a request needs to be tried against,
        # however many routes the app has. A mount is always kept, since the routes
        # inside it may change; None marks a forced-on endpoint or opaque app.
        candidates: list[tuple[Matcher, tuple[Router, object] | None]] = []
        for matcher, endpoint, app, _ in entries:
            if endpoint is None and app is not None:
                target = self.targets.get(id(app))
                if target is not None:
                    candidates.append((matcher, target))
                elif forced_mode_of(app) is ForcedMode.ON:
                    candidates.append((matcher, None))
            elif _forced_on(endpoint):
                candidates.append((matcher, None))
        self.forced_candidates = tuple(candidates)
        # FastAPI 0.16x frontend routes, tried after everything else: knowing there are
        # none spares unmatched requests the redirect check, which only matters before them.
        low_priority = getattr(router, "_iter_low_priority_routes", None)
        self.low_priority = (
            low_priority is not None
            and hasattr(router, "_match_low_priority")
            and any(True for _ in low_priority())
        )
        # A forced-on frontend route is picked by FastAPI's own specificity rules, not
        # by a first full match: such a router always takes the full lookup.
        self.low_priority_forced = self.low_priority and any(
            _forced_on(_low_priority_endpoint(route))
            for route in low_priority()  # type: ignore[misc]
        )
        # Nothing here can force a request on: the answer needs no matching at all.
        self.quiet = not self.forced_candidates and not self.low_priority_forced
        # FastAPI registers its docs as plain Starlette routes in FastAPI.setup(); a
        # user's own route at the same path is an APIRoute and is not exempt.
        paths = _docs_paths(owner) if owner is not router else set()
        self.docs_endpoints = frozenset(
            id(route.endpoint)
            for route in router.routes
            if type(route) is Route and route.path in paths
        )

    def method_info(self, plain: RouteInfo, handler: object) -> RouteInfo:
        """*plain* with the groups of the ``HTTPEndpoint`` method *handler* added,
        worked out once per route and method."""
        # The function itself: a classmethod is bound anew at every access, and the
        # class keeps its functions alive.
        function = getattr(handler, "__func__", handler)
        key = (plain, id(function))
        info = self._method_infos.get(key)
        if info is None:
            info = _plain_info(plain.groups | groups_of(function))
            self._method_infos[key] = info
        return info

    def is_current(self, router: Router) -> bool:
        """Whether the router still has the routes this index was built from.

        Adding a route appends to ``router.routes``; FastAPI 0.16x also counts
        changes of each router in ``_routes_version``, included routers too.
        """
        routes = router.routes
        if routes is not self._routes or len(routes) != self._count:
            return False
        for versioned, version in self._checks:  # noqa: SIM110 - no generator per request
            if versioned._routes_version != version:
                return False
        return True


def _entries(routes: list[Any]) -> list[tuple[Matcher, object, object, frozenset[str]]]:
    """``(matches, endpoint, mounted app, tags)`` of each route, in routing order."""
    flat = routes if _iter_route_contexts is None else list(_iter_route_contexts(routes))
    return [
        (
            route.matches,
            getattr(route, "endpoint", None),
            getattr(route, "app", None),
            _tags_of(route),
        )
        for route in flat
    ]


def _low_priority_endpoint(route: object) -> object:
    """The endpoint (or app) of one of FastAPI's low-priority routes, context or route."""
    original = getattr(route, "original_route", route)
    return getattr(original, "endpoint", None) or getattr(original, "app", None)


def _versioned_routers(router: Router) -> tuple[Router, ...]:
    """The router and every router included in it lazily (FastAPI 0.16x)."""
    found: list[Router] = []
    pending = [router]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        for route in current.routes:
            included = getattr(route, "original_router", None)
            if isinstance(included, Router):
                pending.append(included)
    return tuple(found)


class RouteResolver:
    """Finds the route a scope reaches in a Starlette or FastAPI app.

    Args:
        app: the app the middleware wraps, when known at construction: a Starlette
            app, or middleware around one. Inside Starlette's middleware stack it
            leads to the app's router, and ``scope["app"]`` (set by Starlette
            before its middleware stack runs) is the app that router belongs to.
    """

    def __init__(self, app: object = None) -> None:
        target = _unwrap(app)
        self._app = target if isinstance(target, Starlette) else None
        self._router = target if isinstance(target, Router) else None
        self._given = app
        self._warned = False
        self._indexes: dict[int, _RouterIndex] = {}

    def resolve(self, scope: Scope) -> RouteInfo:
        """The route this scope reaches: existence, marker, built-in exemption."""
        root = self._root(scope)
        if root is None:
            return PLAIN_ROUTE
        router, owner = root
        return self._resolve(router, owner, scope, 0)

    def may_force_on(self, scope: Scope) -> bool:
        """Whether this scope may reach an endpoint marked ``force_maintenance_mode_on``.

        ``False`` is certain: the scope matches none of the forced-on routes, so the
        router cannot reach one. ``True`` only says that the full lookup must decide
        (an earlier route may take the request first).
        """
        router = self._app.router if self._app is not None else self._router
        if router is not None:
            # The usual case, on every request: the app's router is known and nothing
            # in it is forced on (or could be, through a mount).
            index = self._indexes.get(id(router))
            if (
                index is not None
                and index.quiet
                and index.router() is router
                and index.is_current(router)
            ):
                return False
        root = self._root(scope)
        if root is None:
            return True
        router, owner = root
        return self._may_reach_forced(router, owner, scope, 0)

    def _may_reach_forced(self, router: Router, owner: object, scope: Scope, depth: int) -> bool:
        index = self._index(router, owner)
        if index.low_priority_forced:
            return True
        for matches, target in index.forced_candidates:
            match, child_scope = matches(scope)
            if match is not Match.FULL:
                # A partial match is the router's 405: it never reaches the endpoint.
                continue
            if target is None or depth >= _MAX_MOUNT_DEPTH:
                return True
            sub_router, app = target
            if self._may_reach_forced(sub_router, app, {**scope, **child_scope}, depth + 1):
                return True
        return False

    def _root(self, scope: Scope) -> tuple[Router, object] | None:
        """The router to look the scope up in, and the app that owns it (for its docs)."""
        if self._app is not None:
            return self._app.router, self._app
        app = scope.get("app")
        router = _router_of(app)
        if self._router is not None:
            return self._router, (app if router is self._router else self._router)
        if router is not None:
            # Some middleware in between hides what it wraps: inside Starlette's stack
            # the app is still known, as scope["app"].
            return router, app
        # Not a Starlette app, or not one this lookup can reach: no way to route.
        self._warn_unseen(self._given if self._given is not None else app)
        return None

    def _warn_unseen(self, app: object) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "Maintenance mode cannot see the routes inside %s: the markers of its "
                "endpoints and its 404s are not visible, so all its requests are guarded "
                "as a plain route. Middleware is seen through when it keeps the app it "
                "wraps in an `app` attribute.",
                _name(app),
            )

    def _index(self, router: Router, owner: object) -> _RouterIndex:
        index = self._indexes.get(id(router))
        if index is None or index.router() is not router or not index.is_current(router):
            index = _RouterIndex(router, owner)
            self._indexes = {
                key: value for key, value in self._indexes.items() if value.router() is not None
            }
            self._indexes[id(router)] = index
            if index.unseen:
                self._warn_unseen(index.unseen[0])
        return index

    def _resolve(self, router: Router, owner: object, scope: Scope, depth: int) -> RouteInfo:
        # The steps of Router.app (and FastAPI's APIRouter.app), in their order.
        index = self._index(router, owner)
        partial = False
        for matches, plain in index.routes:
            match, child_scope = matches(scope)
            if match is Match.FULL:
                return self._follow(child_scope, index, plain, scope, depth)
            if match is Match.PARTIAL:
                partial = True
        # A partial match is answered 405, a near miss redirected: by the router, so
        # only the low-priority routes after them can still reach an endpoint.
        if partial or not index.low_priority or _redirects(router, index, scope):
            return NO_ROUTE
        return _resolve_low_priority(router, index, scope)

    def _follow(
        self, child_scope: Scope, index: _RouterIndex, plain: RouteInfo, scope: Scope, depth: int
    ) -> RouteInfo:
        endpoint = child_scope.get("endpoint")
        target = index.targets.get(id(endpoint))
        if target is None:
            return _route_info(endpoint, index, scope, plain)
        if depth >= _MAX_MOUNT_DEPTH:
            return PLAIN_ROUTE
        sub_router, app = target
        return self._resolve(sub_router, app, {**scope, **child_scope}, depth + 1)


def _redirects(router: Router, index: _RouterIndex, scope: Scope) -> bool:
    """Whether the router answers *scope* with its slash redirect, as Router.app decides."""
    route_path = get_route_path(scope)
    if scope["type"] != "http" or not router.redirect_slashes or route_path == "/":
        return False
    redirect_scope = dict(scope)
    if route_path.endswith("/"):
        redirect_scope["path"] = redirect_scope["path"].rstrip("/")
    else:
        redirect_scope["path"] = redirect_scope["path"] + "/"
    return any(matches(redirect_scope)[0] is not Match.NONE for matches in index.matchers)


def _resolve_low_priority(router: Router, index: _RouterIndex, scope: Scope) -> RouteInfo:
    # FastAPI picks the most specific of its low-priority routes: ask it, on a copy
    # whose "fastapi" entry it may write to without touching the request's.
    probe = dict(scope)
    probe.pop("fastapi", None)
    match, child_scope, *_ = router._match_low_priority(probe)  # type: ignore[attr-defined]
    if match is Match.FULL:
        # A frontend route: static files, without tags or an endpoint to mark.
        return _route_info(child_scope.get("endpoint"), index, probe)
    return NO_ROUTE
