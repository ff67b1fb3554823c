"""The one place where precedence is decided.

For a request that reaches an existing route, from strongest to weakest:

1. the route's handler is marked ``force_maintenance_mode_on``: maintenance response;
2. the handler is marked ``force_maintenance_mode_off``: proceed;
3. the request is exempt (a built-in exemption such as the app's docs, a valid
   bypass secret or cookie, or the ``exempt_handler``): proceed;
4. an override context (``maintenance_mode_on()`` / ``maintenance_mode_off()``)
   is held: it decides;
5. ``enable_maintenance`` when it was given, else the backend's state decides
   (a stored window counts only while it is open).

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
    """

    exists: bool
    forced: ForcedMode | None = None
    exempt: bool = False


NO_ROUTE = RouteInfo(exists=False)
"""The request matches no route."""

PLAIN_ROUTE = RouteInfo(exists=True)
"""The request matches a route without marker or exemption."""


async def decide(
    route: RouteInfo,
    maintenance_on: Callable[[], Awaitable[bool]],
    is_exempt: Callable[[], Awaitable[bool]] | None,
) -> bool:
    """Return ``True`` when the request must get the maintenance response.

    ``maintenance_on`` gives steps 4 and 5 (see the module docs); ``is_exempt``
    is the user's exemption handler. Both are only called when their answer can
    change the outcome, so an exemption handler never runs while maintenance is off.
    """
    if not route.exists:
        return False
    if route.forced is ForcedMode.ON:
        return True
    if route.forced is ForcedMode.OFF or route.exempt:
        return False
    if not await maintenance_on():
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
        """Whether maintenance is on for requests that no marker or exemption decides."""
        active = self.overrides.active
        if active is not None:
            return active
        if self.enable_maintenance is not None:
            return self.enable_maintenance
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
        return state.is_on_now()

    def _fallback(self, exc: Exception) -> bool:
        if self.on_state_error == "last_known":
            known = self._last_known
            value = known is not None and known.is_on_now()
            source = "the last known state" if known is not None else "the default"
        else:
            value = self.on_state_error == "on"
            source = f"on_state_error={self.on_state_error!r}"
        if not self._failing:
            self._failing = True
            get_logger("decision").error(
                "Cannot read the maintenance state from %s (%s: %s); using %s: maintenance is %s.",
                self.backend.describe(),
                type(exc).__name__,
                exc,
                source,
                "on" if value else "off",
            )
        return value
