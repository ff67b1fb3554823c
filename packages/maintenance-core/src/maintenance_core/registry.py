"""The module-level API an adapter exposes: which backend the functions use.

``get_maintenance_mode()`` and friends take an optional backend. Without one
they use, in this order:

1. the backend of the middleware serving the current request (or lifespan),
   which the middleware binds in a context variable, so two apps in one
   process each see their own;
2. the backend given to the middleware built most recently, for code running
   outside any request (scripts, tests); when that middleware was built
   without a backend, this step is skipped, as in fastapi-maintenance 0.0.5;
3. the backend set with ``configure_backend()``, whenever it was called: a
   middleware built without a backend uses it too, at each request, as
   fastapi-maintenance 0.0.5 did;
4. an environment-variable backend.

The registry also names the loggers: inside its context the core logs under the
adapter's package name (``fastapi_maintenance.*``), see :mod:`._log`.

Each adapter owns one :class:`BackendRegistry`; the documented API requires
this much module-level state and no more.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import Token
from datetime import datetime
from typing import Any

from ._binding import Binding, bind, find, unbind
from ._log import reset_namespace, use_namespace
from .backends.base import StateBackend
from .backends.env import EnvVarBackend
from .backends.file import LocalFileBackend
from .coverage import WHOLE_SITE, Coverage, normalize_groups
from .errors import ConfigurationError, InvalidWindowError, UnknownBackendError
from .overrides import MaintenanceOverride, overrides_of
from .state import OFF, ON, MaintenanceState

__all__ = ["BackendFactory", "BackendRegistry"]

BackendFactory = Callable[..., StateBackend]

_Scope = MutableMapping[str, Any]


def _redis_backend(**kwargs: Any) -> StateBackend:
    # Imported on use: the redis package is an optional extra.
    from .backends.redis import RedisBackend

    return RedisBackend(**kwargs)


def _coverage(value: bool, read_only: bool, groups: Iterable[str] | None) -> Coverage:
    """The coverage asked for, checked: a clear error for bad names or for ``off``."""
    if not isinstance(read_only, bool):
        raise ConfigurationError(
            f"read_only must be True or False, got {type(read_only).__name__}."
        )
    try:
        names = normalize_groups(groups)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    if (read_only or names) and not value:
        raise ConfigurationError(
            "read_only and groups limit maintenance that is on: they do not apply to "
            "set_maintenance_mode(False)."
        )
    return Coverage(read_only, names) if read_only or names else WHOLE_SITE


class BackendRegistry:
    """Chooses the backend for an adapter's module-level functions.

    Args:
        name: the adapter's package name (``"fastapi_maintenance"``), used for
            the context variable and as the loggers' namespace.
        env_backend: the environment-variable backend class with the adapter's
            default variable name.
        factories: extra ``configure_backend`` names (``"env"`` and ``"file"``
            are always available).
    """

    def __init__(
        self,
        name: str,
        env_backend: type[EnvVarBackend],
        factories: Mapping[str, BackendFactory] | None = None,
    ) -> None:
        self.name = name
        self._env_backend = env_backend
        self._factories: dict[str, BackendFactory] = {
            "env": env_backend,
            "file": LocalFileBackend,
            "redis": _redis_backend,
            **(factories or {}),
        }
        self._configured: StateBackend | None = None
        self._middleware: weakref.ReferenceType[StateBackend] | None = None

    @property
    def backend_names(self) -> tuple[str, ...]:
        """The names ``configure_backend`` accepts."""
        return tuple(self._factories)

    def create_backend(self, backend_type: str, **kwargs: Any) -> StateBackend:
        """Build a backend by name.

        Raises:
            UnknownBackendError: naming the choices, for an unknown name.
            TypeError: for arguments the backend does not take.
        """
        try:
            factory = self._factories[backend_type]
        except (KeyError, TypeError):
            raise UnknownBackendError(str(backend_type), self.backend_names) from None
        return factory(**kwargs)

    def configure_backend(self, backend_type: str, **kwargs: Any) -> None:
        """Set the default backend used to store and read the maintenance state.

        Args:
            backend_type: ``"env"`` (read-only, the default), ``"file"`` or ``"redis"``.
            **kwargs: passed to the backend: ``var_name`` for ``"env"``,
                ``file_path`` for ``"file"``, ``url`` (and the other
                ``RedisBackend`` options) for ``"redis"``.

        Raises:
            UnknownBackendError: a ``ValueError`` naming the choices.
        """
        self._configured = self.create_backend(backend_type, **kwargs)

    def default_backend(self) -> StateBackend:
        """The configured backend, else the environment-variable backend."""
        if self._configured is None:
            self._configured = self._env_backend()
        return self._configured

    def reset(self) -> None:
        """Forget the configured and middleware backends (between tests)."""
        self._configured = None
        self._middleware = None

    def register_middleware(self, backend: StateBackend | None) -> None:
        """Remember the backend given to a newly built middleware (fallback 2);
        ``None`` for one built without a backend, which then follows the configured one."""
        self._middleware = None if backend is None else weakref.ref(backend)

    def bind(self, backend: StateBackend, scope: _Scope | None = None) -> Token[Binding | None]:
        """Make *backend* current for the running request, and log under this
        adapter's name; pass the token to :meth:`unbind`.

        *scope* is the request's ASGI scope (``None`` for a lifespan): a drain
        started inside the request finds the request there and does not wait for it.
        """
        return bind(self.name, self, backend, scope)

    def current_scope(self) -> _Scope | None:
        """The scope of the request being served in this context, if any."""
        bound = find(self)
        return None if bound is None else bound[3]

    def unbind(self, token: Token[Binding | None]) -> None:
        """Undo :meth:`bind`."""
        unbind(token)

    @contextmanager
    def _logging(self) -> Iterator[None]:
        # Module-level functions called outside a request log under the adapter's name too.
        token = use_namespace(self.name)
        try:
            yield
        finally:
            reset_namespace(token)

    def current_backend(self) -> StateBackend:
        """The backend the module-level functions use when given none."""
        bound = find(self)
        if bound is not None:
            return bound[2]  # type: ignore[no-any-return]
        if self._middleware is not None:
            backend = self._middleware()
            if backend is not None:
                return backend
        return self.default_backend()

    async def get_maintenance_mode(self, backend: StateBackend | None = None) -> bool:
        """Return whether maintenance mode is on.

        An override held with ``maintenance_mode_on()``/``maintenance_mode_off()``
        is reported even on a read-only backend.

        Args:
            backend: the backend to ask; by default the app's.
        """
        backend = backend or self.current_backend()
        active = overrides_of(backend).active
        if active is not None:
            return active
        with self._logging():
            return (await backend.get_state()).is_on_now()

    async def get_maintenance_state(self, backend: StateBackend | None = None) -> MaintenanceState:
        """Return the stored state with its window and bypass secret (overrides aside)."""
        with self._logging():
            return await (backend or self.current_backend()).get_state()

    async def set_maintenance_mode(
        self,
        value: bool,
        backend: StateBackend | None = None,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        read_only: bool = False,
        groups: Iterable[str] | None = None,
    ) -> None:
        """Store the maintenance state, optionally limited to a window, to unsafe
        requests (read-only) or to some route groups.

        With ``start`` and/or ``end``, maintenance is on only from ``start``
        (default: now) until ``end`` (default: until switched off), and switches
        itself off at ``end``; while it is on, ``Retry-After`` counts down to
        ``end``. Storing a plain ``True``/``False`` clears any window.

        On the read-only environment backend this logs a warning and changes
        nothing. While an override is held, the value becomes the state restored
        when the last override leaves.

        Args:
            value: ``True`` for on.
            backend: the backend to write; by default the app's.
            start: when the window starts: an aware ``datetime`` or an ISO 8601
                string with an offset (``"2026-11-21T22:00:00+01:00"``, ``"...Z"``).
            end: when the window ends, in the same forms.
            read_only: only unsafe requests (anything but ``GET``, ``HEAD`` and
                ``OPTIONS``, and websocket handshakes) get the maintenance
                response; reads proceed.
            groups: only requests to routes in one of these groups (their tags,
                or ``maintenance_group()`` names) get the maintenance response.

        Raises:
            InvalidWindowError: for a window given with ``value=False``, naive or
                malformed bounds, an end before the start, or an end already past.
            ConfigurationError: for ``read_only``/``groups`` with ``value=False``,
                or group names that are empty, too long or too many.
            StateNotSupportedError: if the backend stores only on/off (a custom
                0.0.5-style backend) and cannot store a window, or a read-only or
                grouped state. The environment-variable backend, read-only at run
                time, logs a warning and changes nothing, as for any state.
        """
        coverage = _coverage(value, read_only, groups)
        if start is None and end is None:
            state = ON if value else OFF
        elif not value:
            raise InvalidWindowError(
                "A window (start/end) schedules maintenance on: call "
                "set_maintenance_mode(True, start=..., end=...), or False without a window."
            )
        else:
            state = MaintenanceState.scheduled(start, end)
        if not coverage.whole_site:
            state = state.with_coverage(coverage)
        await self.set_maintenance_state(state, backend)

    async def set_maintenance_state(
        self, state: MaintenanceState, backend: StateBackend | None = None
    ) -> None:
        """Store a complete state (with a window or a bypass secret hash); see
        :meth:`set_maintenance_mode`."""
        backend = backend or self.current_backend()
        with self._logging():
            await overrides_of(backend).set_baseline_or_store(state, backend)

    def maintenance_mode_on(
        self,
        backend: StateBackend | None = None,
        *,
        drain: float | None = None,
        read_only: bool = False,
        groups: Iterable[str] | None = None,
    ) -> MaintenanceOverride:
        """Hold maintenance mode on while an ``async with`` block runs.

        Nesting- and concurrency-safe: maintenance stays on while any such block
        is running, and the earlier state is restored when the last one leaves.

        With ``drain``, entering the block also waits, at most ``drain`` seconds,
        until the requests admitted before maintenance turned on have finished
        (in this process; on Redis, in every live instance of the fleet), so the
        block starts when nobody is still writing. A request the block is
        entered from is not waited for. If they have not finished by then, the
        override is released and :class:`~maintenance_core.drain.DrainTimeoutError`
        is raised, saying how many requests are still running (and on Redis,
        which instances): the block never runs. After entering, the override's
        ``drain_result`` holds the :class:`~maintenance_core.drain.DrainResult`.

        Args:
            backend: the backend to override; by default the app's.
            drain: seconds to wait for the requests already admitted, 0 or more;
                ``None`` (the default) does not wait.
            read_only: only unsafe requests get the maintenance response while
                the block runs (see :meth:`set_maintenance_mode`).
            groups: only routes in these groups get it.

        While several ``on`` overrides are held, maintenance covers at least what
        each one covers: it is read-only only if all of them are, and limited to
        groups only if all of them are (then to all their groups).

        Raises:
            ConfigurationError: for a ``drain`` that is not a number of seconds, 0
                or more, or group names that are empty, too long or too many.
        """
        return MaintenanceOverride(
            True,
            backend,
            self.current_backend,
            drain=drain,
            current_scope=self.current_scope,
            coverage=_coverage(True, read_only, groups),
        )

    def maintenance_mode_off(self, backend: StateBackend | None = None) -> MaintenanceOverride:
        """Hold maintenance mode off while an ``async with`` block runs.

        An ``on`` override held at the same time wins.

        Args:
            backend: the backend to override; by default the app's.
        """
        return MaintenanceOverride(False, backend, self.current_backend)
