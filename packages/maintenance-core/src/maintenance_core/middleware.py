"""The pure ASGI maintenance middleware that every adapter builds on.

It guards ``http`` and ``websocket`` scopes and hands every other scope
(``lifespan``) to the app untouched. The work that can be done once (the
backend, the prepared response, whether handlers are async) is done at
construction; a request costs a route lookup by the adapter and an in-memory
state read, and a request that proceeds is passed on with the original
``receive`` and ``send``, so streaming, background tasks and context variables
behave exactly as without the middleware.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._adapter_base import (
    ROUTING_PATH_KEY,
    Adapter,
    ASGIApp,
    FrameworkAdapter,
    Message,
    Receive,
    Scope,
    Send,
)
from ._binding import bind, unbind
from ._log import get_logger
from .backends.base import StateBackend
from .bypass import BYPASS_PARAM, BypassKey, BypassPolicy
from .config import DEFAULT_RESPONSE, MaintenanceConfig
from .coverage import WHOLE_SITE, Coverage
from .decision import RouteInfo, StateReader, decide
from .drain import ADMITTED_SCOPE_KEY, inflight_of
from .errors import ConfigurationError
from .markers import ForcedMode
from .registry import BackendRegistry
from .responses import READ_ONLY_DETAIL, MaintenanceResponse, strip_body
from .state import NOTICE_SCOPE_KEY, MaintenanceNotice

_PARAM = BYPASS_PARAM.encode("latin-1")

__all__ = [
    "ASGIApp",
    "FrameworkAdapter",
    "MaintenanceGuard",
    "MaintenanceMiddleware",
    "Message",
    "Receive",
    "Scope",
    "Send",
]

_HOOKS = (
    "resolve_route",
    "may_force_on",
    "routing_path",
    "connection",
    "is_response",
    "send_response",
)


def _check_adapter(adapter: object) -> None:
    missing = [hook for hook in _HOOKS if not callable(getattr(adapter, hook, None))]
    if missing:
        raise ConfigurationError(
            f"The adapter {type(adapter).__qualname__} lacks the hook"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}: subclass "
            "maintenance_core.adapter.Adapter, which gives every hook its default."
        )


_GUARDED = ("http", "websocket")


class MaintenanceGuard:
    """Everything the middleware does except holding the wrapped app.

    Frameworks that build their middleware per route (Litestar) share one guard
    between routes, so the state reader, its log-once memory and the prepared
    response exist once per app.

    Args:
        config: the options, see :class:`~maintenance_core.MaintenanceConfig`.
            Instead of a config, the options may be given as keyword arguments
            (``MaintenanceGuard(adapter=..., backend=..., enable_maintenance=True)``),
            never both.
        adapter: the framework adapter (route lookup, request and response objects).
        registry: the adapter's module-level registry, bound for each request so
            module-level functions called by handlers use this guard's backend.
            Without a backend in the config, the guard follows the registry's
            default backend (``configure_backend()``) at each request.

    Raises:
        ConfigurationError: for a bad option (a ``ValueError`` and
            ``TypeError`` too), at construction rather than at the first request.
    """

    def __init__(
        self,
        config: MaintenanceConfig | None = None,
        *,
        adapter: FrameworkAdapter,
        registry: BackendRegistry | None = None,
        **options: Any,
    ) -> None:
        config = MaintenanceConfig.from_options(config, **options)
        backend = config.backend
        if backend is None and registry is None:
            raise ConfigurationError("A maintenance guard needs a backend or a registry.")
        if registry is not None:
            # As in 0.0.5: the latest middleware decides fallback 2, even without a
            # backend of its own (then the configured one is used outside requests).
            registry.register_middleware(backend)

        self.config = config
        self.adapter = adapter
        self.registry = registry
        self.enable_maintenance = config.enable_maintenance
        self.on_state_error = config.on_state_error
        self.exempt_handler = config.exempt_handler
        self.response_handler = config.response_handler
        # Without a backend of its own the guard follows the registry's default at
        # each request, so configure_backend() takes effect whenever it is called.
        self._fixed_backend = backend
        self._reader = StateReader(
            backend if backend is not None else registry.default_backend(),  # type: ignore[union-attr]
            config.enable_maintenance,
            config.on_state_error,
        )
        # The requests admitted that maintenance would refuse, counted for drains
        # (maintenance_core.drain); one tracker per backend, shared between guards.
        self._inflight = inflight_of(self._reader.backend)
        self._inflight.serving = True
        self.bypass = BypassPolicy(
            config.bypass_secret, cookie_max_age=config.bypass_cookie_max_age
        )
        self.response = config.response
        if config.retry_after is not None and config.retry_after != self.response.retry_after:
            # The default response with the configured Retry-After, prepared once.
            self.response = MaintenanceResponse(retry_after=config.retry_after)
        # Read-only maintenance says so, unless the app chose its own response.
        self.read_only_response = (
            MaintenanceResponse(
                content={"detail": READ_ONLY_DETAIL}, retry_after=self.response.retry_after
            )
            if config.response is DEFAULT_RESPONSE
            else self.response
        )
        # Window countdown > stored with the state > configured here (> the response's).
        self._retry_after = config.configured_retry_after
        # None unless counting was asked for: one attribute check when a request is
        # refused or bypassed, nothing when maintenance is off.
        self._metrics = config.metrics
        if self._metrics is not None:
            self._metrics.watch(self._reader.backend)
        _check_adapter(adapter)
        # Adapter's own may_force_on always says yes: the call is skipped.
        self._ask_may_force_on = not (
            isinstance(adapter, Adapter) and type(adapter).may_force_on is Adapter.may_force_on
        )

    @property
    def backend(self) -> StateBackend:
        """The backend the next request reads."""
        return self.state.backend

    @property
    def state(self) -> StateReader:
        """The state reader of the backend the next request reads."""
        reader = self._reader
        if self._fixed_backend is None:
            assert self.registry is not None
            backend = self.registry.default_backend()
            if backend is not reader.backend:
                reader = self._reader = StateReader(
                    backend, self.enable_maintenance, self.on_state_error
                )
                self._inflight = inflight_of(backend)
                self._inflight.serving = True
                if self._metrics is not None:
                    self._metrics.watch(backend)
        return reader

    async def handle(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Answer *scope* with the maintenance response, or pass it to *app* untouched."""
        # Every request runs this: while maintenance is off it is a few attribute
        # reads, one awaited state read and the app, nothing else.
        reader = self._reader if self._fixed_backend is not None else self.state
        registry = self.registry
        token = None if registry is None else bind(registry.name, registry, reader.backend, scope)
        try:
            if scope["type"] not in _GUARDED:
                await app(scope, receive, send)
                return
            # Taken before the state is read: a drain that starts while this request
            # decides shows as a new epoch when it is admitted (below).
            epoch = self._inflight.epoch
            if not self._ask_may_force_on or self.adapter.may_force_on(scope):
                counted = await self._decide(scope, receive, send, reader, reader.read)
            else:
                coverage = await reader.read()
                if coverage is None:
                    counted = True  # maintenance is off and no route is forced on: admitted
                else:
                    # Decide with this read: a second one could disagree (a state
                    # changing, or failing, between the two), and would cost a read.
                    async def already_read() -> Coverage:
                        return coverage

                    counted = await self._decide(scope, receive, send, reader, already_read)
            if counted is None:
                return  # answered: refused, or redirected to set a bypass cookie
            if (
                _PARAM in scope.get("query_string", b"")
                and scope["type"] == "http"
                and await self._drop_bypass_param(scope, send, reader)
            ):
                return
            if not counted:
                await app(scope, receive, send)
                return
            # Maintenance would refuse this request now: it is counted in flight in its
            # epoch until it finishes, so drains wait for it.
            inflight = self._inflight
            if epoch is not inflight.epoch:
                # A drain started while this request was deciding, maybe on the state
                # from before the switch, and does not count it: decide again.
                await self.handle(scope, receive, send, app)
                return
            if scope.get(ADMITTED_SCOPE_KEY) is epoch:
                # An outer guard on the same backend (an app mounted in another) has
                # counted it already: counted twice, a drain inside it would wait for it.
                await app(scope, receive, send)
                return
            epoch.running += 1
            scope[ADMITTED_SCOPE_KEY] = epoch  # a drain started inside it does not wait for it
            try:
                await app(scope, receive, send)
            finally:
                epoch.running -= 1
                if epoch.watched:
                    inflight.wake()
        finally:
            if token is not None:
                unbind(token)

    async def _decide(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        reader: StateReader,
        maintenance: Callable[[], Awaitable[Coverage | None]],
    ) -> bool | None:
        """Look the route up and let :func:`~maintenance_core.decision.decide` answer.

        Returns ``None`` when the request was answered here, else whether it is
        admitted as one that maintenance would refuse (counted for drains).
        """
        route = self.adapter.resolve_route(scope)
        # The bypass keys of this request, found when decide() asks about exemption;
        # decide() refuses a route not forced on only after asking.
        keys: tuple[BypassKey, ...] = ()
        exempt = False  # let through by a secret or the exempt_handler: never waited for
        coverage: Coverage | None = None  # what maintenance covered, once decide() asked

        async def maintenance_now() -> Coverage | None:
            nonlocal coverage
            coverage = await maintenance()
            return coverage

        async def is_exempt() -> bool:
            nonlocal keys, exempt
            stored = await reader.stored_state()
            keys = self.bypass.keys(None if stored is None else stored.bypass_key)
            if keys:
                await self.bypass.prepare(scope, keys)  # a stored secret's scrypt, off the loop
            if keys and self.bypass.lets_through(scope, keys):
                if self._metrics is not None:
                    self._metrics.record_bypassed("secret")
                exempt = True
            elif self.exempt_handler is not None and await self._is_exempt(scope, receive, send):
                if self._metrics is not None:
                    self._metrics.record_bypassed("exempt_handler")
                exempt = True
            return exempt

        method = scope.get("method") if scope["type"] == "http" else None
        if await decide(route, maintenance_now, is_exempt, method):
            await self._refuse(scope, receive, send, route, keys, reader, coverage)
            return None
        # Maintenance never refuses these: no drain waits for them.
        return not (exempt or not route.exists or route.forced is not None or route.exempt)

    async def _drop_bypass_param(self, scope: Scope, send: Send, reader: StateReader) -> bool:
        """Redirect a URL carrying the bypass parameter to itself without it.

        For a request about to reach the app (maintenance off, a route forced off
        or exempt, a path no route serves), while a bypass secret is configured:
        a secret in a URL must not reach the app and its logs. The redirect sets
        the bypass cookie when the value is a valid secret. (A refused request
        never reaches the app: it gets the cookie redirect or the 503.)
        """
        await reader.is_on()  # the stored state, and its secret, are known after a read
        stored = await reader.stored_state()
        keys = self.bypass.keys(None if stored is None else stored.bypass_key)
        if not keys:
            return False
        await self.bypass.prepare(scope, keys)
        redirect = self.bypass.param_redirect(scope, keys)
        if redirect is None:
            return False
        await send({"type": "http.response.start", "status": 302, "headers": [*redirect]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True

    async def _is_exempt(self, scope: Scope, receive: Receive, send: Send) -> bool:
        assert self.exempt_handler is not None
        try:
            scope[ROUTING_PATH_KEY] = self.adapter.routing_path(scope)
            result = self.exempt_handler(self.adapter.connection(scope, receive, send))
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            get_logger("middleware").exception("exempt_handler raised: the request is not exempt.")
            return False
        return bool(result)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: RouteInfo,
        keys: tuple[BypassKey, ...],
        reader: StateReader,
        coverage: Coverage | None,
    ) -> None:
        end = None
        retry_after = self._retry_after
        if coverage is None or route.forced is ForcedMode.ON:
            coverage = WHOLE_SITE  # a route forced on is closed, not read-only
        response = self.read_only_response if coverage.read_only else self.response
        if route.forced is not ForcedMode.ON:
            if keys and scope["type"] == "http":
                redirect = self.bypass.cookie_redirect(scope, keys)
                if redirect is not None:
                    await send(
                        {"type": "http.response.start", "status": 302, "headers": [*redirect]}
                    )
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            stored = reader.deciding_state()
            if stored is not None and stored.end is not None:
                end, retry_after = stored.end, stored.seconds_left(time.time())
            elif stored is not None and stored.retry_after is not None:
                retry_after = stored.retry_after
        if self._metrics is not None:
            self._metrics.record_refused(
                scope["type"], "forced" if route.forced is ForcedMode.ON else "maintenance"
            )
        if scope["type"] == "websocket":
            await response.refuse_websocket(scope, send, retry_after)
            return
        if self.response_handler is None:
            await response.send_http(scope, send, retry_after)
            return
        scope[NOTICE_SCOPE_KEY] = MaintenanceNotice(end, retry_after, coverage)
        try:
            scope[ROUTING_PATH_KEY] = self.adapter.routing_path(scope)
            answer = self.response_handler(self.adapter.connection(scope, receive, send))
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception:
            get_logger("middleware").exception(
                "response_handler raised: sending the default maintenance response."
            )
            await response.send_http(scope, send, retry_after)
            return
        if not self.adapter.is_response(answer):
            get_logger("middleware").error(
                "response_handler returned %r, which is not a response: sending the default "
                "maintenance response. Return a response object of your framework.",
                type(answer).__name__,
            )
            await response.send_http(scope, send, retry_after)
            return
        await self._send_handler_response(answer, scope, receive, send, retry_after, response)

    async def _send_handler_response(
        self,
        response: Any,
        scope: Scope,
        receive: Receive,
        send: Send,
        retry_after: int | None,
        default: MaintenanceResponse,
    ) -> None:
        """Send what the ``response_handler`` returned; the default 503 if that fails early."""
        started = False
        inner = strip_body(send) if scope.get("method") == "HEAD" else send

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = True
            await inner(message)

        try:
            await self.adapter.send_response(response, scope, receive, send_tracked)
        except Exception:
            if started:
                get_logger("middleware").exception(
                    "The response_handler's %s failed after it started: it is incomplete.",
                    type(response).__name__,
                )
                return
            get_logger("middleware").exception(
                "The response_handler's %s could not be sent: sending the default "
                "maintenance response.",
                type(response).__name__,
            )
            await default.send_http(scope, send, retry_after)


class MaintenanceMiddleware:
    """Answer requests with the maintenance response while maintenance mode is on.

    A pure ASGI middleware around one app.

    Args:
        app: the ASGI app to guard.
        guard: what to decide and answer, see :class:`MaintenanceGuard`.
    """

    def __init__(self, app: ASGIApp, guard: MaintenanceGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A coroutine function, not a function returning the guard's coroutine: servers
        # tell ASGI 3 apps by it (uvicorn, hypercorn), and would call the app as ASGI 2.
        await self.guard.handle(scope, receive, send, self.app)
