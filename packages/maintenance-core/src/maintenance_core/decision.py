"""The one place where precedence is decided.

For a request that reaches an existing route, from strongest to weakest:

1. the route's handler is marked ``force_maintenance_mode_on``: maintenance response;
2. the handler is marked ``force_maintenance_mode_off``: proceed;
3. a built-in exemption of the framework applies (the app's docs): proceed;
4. maintenance is off: proceed. An override context (``maintenance_mode_on()`` /
   ``maintenance_mode_off()``) decides when one is held; else
   ``enable_maintenance`` when it was given; else the backend's state (a stored
   window counts only while it is open);
5. maintenance is partial and does not cover the request: proceed. Read-only
   maintenance covers unsafe methods and websocket handshakes; maintenance
   limited to groups covers the routes in those groups
   (:mod:`maintenance_core.coverage`);
6. the request is exempt (a valid bypass secret or cookie, or the
   ``exempt_handler``): proceed;
7. otherwise: maintenance response.

A request for a path or method that no route serves always proceeds, so the
framework answers its usual 404 or 405.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ._log import get_logger
from .backends.base import StateBackend
from .coverage import WHOLE_SITE, Coverage
from .events import announce_problem
from .markers import ForcedMode
from .overrides import OverrideStore, overrides_of
from .state import MaintenanceState

__all__ = ["NO_ROUTE", "PLAIN_ROUTE", "RouteInfo", "StateErrorPolicy", "StateReader", "decide"]


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """What an adapter found out about the route a request reaches.

    Attributes:
        exists: a route serves this path and method (else the framework answers 404/405).
        forced: the marker carried by the route's handler, if any.
        exempt: a built-in exemption of the framework applies (its docs pages).
        groups: the route's maintenance groups (its tags and ``maintenance_group``
            names), for maintenance limited to groups.
    """

    exists: bool
    forced: ForcedMode | None = None
    exempt: bool = False
    groups: frozenset[str] = frozenset()


NO_ROUTE = RouteInfo(exists=False)
"""The request matches no route."""

PLAIN_ROUTE = RouteInfo(exists=True)
"""The request matches a route without marker or exemption."""


async def decide(
    route: RouteInfo,
    maintenance: Callable[[], Awaitable[Coverage | bool | None]],
    is_exempt: Callable[[], Awaitable[bool]] | None,
    method: str | None = "GET",
) -> bool:
    """Return ``True`` when the request must get the maintenance response.

    Args:
        route: what the adapter found out about the route.
        maintenance: step 4 (see the module docs): what maintenance covers now,
            ``None`` (or ``False``) while it is off; ``True`` for the whole site.
        is_exempt: the bypass secret and the user's exemption handler (step 6).
        method: the request's HTTP method; ``None`` for a websocket handshake.

    ``maintenance`` and ``is_exempt`` are only called when their answer can
    change the outcome, so an exemption handler never runs while maintenance is
    off, nor for a request that partial maintenance does not cover.
    """
    if not route.exists:
        return False
    if route.forced is ForcedMode.ON:
        return True
    if route.forced is ForcedMode.OFF or route.exempt:
        return False
    coverage = await maintenance()
    if coverage is None or coverage is False:
        return False
    if (
        coverage is not True
        and coverage is not WHOLE_SITE
        and not coverage.covers(method, route.groups)
    ):
        return False
    return not (is_exempt is not None and await is_exempt())


StateErrorPolicy = Literal["last_known", "on", "off"]
"""What to serve while the backend's state cannot be read: see :class:`StateReader`."""

_POLICIES: tuple[StateErrorPolicy, ...] = ("last_known", "on", "off")


class StateReader:
    """Steps 4 and 5 of the precedence for one middleware, never raising.

    A stored window is evaluated here, on every read, against this machine's
    clock, so maintenance switches itself off at the window's end.

    When the backend raises while reading, ``on_state_error`` decides:
    ``"last_known"`` (the default) serves the last state read successfully, or
    off if there is none yet; ``"on"`` and ``"off"`` serve that state. The
    problem is logged once when it starts and once when it is over, not on
    every request. A backend that answers with a stand-in while its store is
    unreachable (Redis serves its last known state, else its ``fallback``) says
    so in :attr:`~maintenance_core.backends.StateBackend.problem`: ``"last_known"``
    takes the stand-in, ``"on"`` and ``"off"`` decide as for any other fault.

    Args:
        backend: where the state is stored.
        enable_maintenance: when not ``None``, replaces the backend's state.
        on_state_error: ``"last_known"``, ``"on"`` or ``"off"``.
    """

    def __init__(
        self,
        backend: StateBackend,
        enable_maintenance: bool | None = None,
        on_state_error: StateErrorPolicy = "last_known",
    ) -> None:
        if on_state_error not in _POLICIES:
            raise ValueError(
                f"on_state_error must be one of {', '.join(map(repr, _POLICIES))}, "
                f"got {on_state_error!r}."
            )
        self.backend = backend
        self.enable_maintenance = enable_maintenance
        self.on_state_error = on_state_error
        self.overrides: OverrideStore = overrides_of(backend)
        # Only a backend that can answer with a stand-in state reports a problem:
        # for the others its property is not asked on every read.
        self._reports_problems = (
            getattr(type(backend), "problem", StateBackend.problem) is not StateBackend.problem
        )
        self._last_known: MaintenanceState | None = None
        self._failing = False

    async def stored_state(self) -> MaintenanceState | None:
        """The backend's state, for the bypass secret stored with it.

        When an override or ``enable_maintenance`` decided, :meth:`is_on` did not
        read the backend; read it now (from its cache), so a secret stored or
        revoked meanwhile counts. A failing read keeps the last known state.
        """
        if self.overrides.active is not None or self.enable_maintenance is not None:
            with contextlib.suppress(Exception):  # is_on logs read problems, once
                self._last_known = await self.backend.get_state()
        return self._last_known

    def deciding_state(self) -> MaintenanceState | None:
        """The stored state last read, when it decides (no override, no
        ``enable_maintenance``); else ``None``."""
        if self.overrides.active is not None or self.enable_maintenance is not None:
            return None
        return self._last_known

    def deciding_window(self) -> MaintenanceState | None:
        """The stored state, when it decides and has a window end; else ``None``."""
        state = self.deciding_state()
        return state if state is not None and state.end is not None else None

    def window_end(self) -> datetime | None:
        """The end of the window that currently decides, if the stored state decides."""
        window = self.deciding_window()
        return None if window is None else window.end

    async def is_on(self) -> bool:
        """Whether maintenance is on (for the whole site or in part) for requests
        that no marker or exemption decides."""
        return await self.read() is not None

    async def read(self, *, overrides: bool = True) -> Coverage | None:
        """What maintenance covers now (:mod:`maintenance_core.coverage`), ``None`` while off.

        With ``overrides=False``, what it covers without the override blocks held:
        ``enable_maintenance``, else the backend's state.
        """
        # One coroutine on the path of every request: the overrides' step and the
        # state's are not split in two calls.
        active = self.overrides.active if overrides else None
        if active is not None:
            if not active:
                return None
            coverage: Coverage = getattr(self.overrides, "coverage", WHOLE_SITE)
            if coverage.whole_site:
                return WHOLE_SITE
            # A partial block adds to the maintenance that is on without it, never
            # narrows it: what the state says is read too (only while one is held).
            underlying = await self.read(overrides=False)
            return coverage if underlying is None else coverage.union(underlying)
        if self.enable_maintenance is not None:
            return WHOLE_SITE if self.enable_maintenance else None
        try:
            state = await self.backend.get_state()
        except Exception as exc:
            starting = not self._failing
            value = self._fallback(exc)
            if starting:  # a fault starts: announced once, as it is logged once
                announce_problem(self.backend, exc)
            return value
        problem = self.backend.problem if self._reports_problems else None
        if problem is not None and self.on_state_error != "last_known":
            # The backend answered with a stand-in (its own last known state) and has
            # logged its problem; a policy of "on" or "off" decides instead.
            return self._fallback(problem)
        self._last_known = state
        if self._failing:
            self._failing = False
            get_logger("decision").warning(
                "Maintenance state is readable again from %s: maintenance is %s.",
                self.backend.describe(),
                "on" if state.is_on_now() else "off",
            )
        return state.coverage if state.is_on_now() else None

    def _fallback(self, exc: Exception) -> Coverage | None:
        if self.on_state_error == "last_known":
            known = self._last_known
            value = known.coverage if known is not None and known.is_on_now() else None
            source = "the last known state" if known is not None else "the default"
        else:
            value = WHOLE_SITE if self.on_state_error == "on" else None
            source = f"on_state_error={self.on_state_error!r}"
        if not self._failing:
            self._failing = True
            get_logger("decision").error(
                "Cannot read the maintenance state from %s (%s: %s); using %s: maintenance is %s.",
                self.backend.describe(),
                type(exc).__name__,
                exc,
                source,
                "off" if value is None else "on",
            )
        return value
