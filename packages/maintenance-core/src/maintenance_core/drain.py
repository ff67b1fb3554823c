"""Drain: switching maintenance on returns once nobody is still writing.

Turning maintenance on refuses new requests, but the requests admitted just
before keep running: a migration started at once would race them. A drain
waits, with a deadline, until those requests have finished.

**In one process.** The guard counts the requests it passes to the app that
maintenance would refuse: the ones on a route not forced off, not exempt and
not let through by a bypass secret. (While maintenance is off, exemptions and
bypass secrets are not evaluated and a route may not even be looked up, so a
request admitted then is counted whatever its route: a drain errs on the side
of waiting.) Each request is counted in the *epoch* that was current when it
entered the guard, before it read the state; a drain starts a new epoch, once
the new state is in effect, and waits until the requests of the earlier ones
have finished. A request admitted on an epoch that ended while it was deciding
(it may have read the state from before the switch) is decided again instead.
Requests admitted later are not waited for, so a drain cannot be kept busy by
new traffic, and the request path pays one increment, one decrement and a
``try``/``finally``.

A drain started inside a request (``maintenance_mode_on(drain=...)`` in a
handler marked ``force_maintenance_mode_off``, the migration endpoint pattern)
does not wait for the request it runs in: a request waiting on a drain is not
writing.

**In a fleet** (:class:`~maintenance_core.backends.redis.RedisBackend`), each
serving process is an *instance* with a heartbeat; it acknowledges every change
of the state once it has drained it, and :func:`wait_drained` waits until every
live instance has acknowledged (see the "Operating a fleet" documentation page
for the keys and the protocol).

The functions for tools (a command line's ``on --wait`` and ``status``):
:func:`wait_drained`, :func:`list_instances` and :func:`supports_fleet`.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import MutableMapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio

from .errors import ConfigurationError, MaintenanceError

if TYPE_CHECKING:
    from .backends.base import StateBackend

__all__ = [
    "ADMITTED_SCOPE_KEY",
    "DrainResult",
    "DrainTimeoutError",
    "Epoch",
    "FleetBackend",
    "FleetNotSupportedError",
    "InflightRequests",
    "InstanceStatus",
    "check_drain_timeout",
    "inflight_of",
    "list_instances",
    "supports_fleet",
    "wait_drained",
]

ADMITTED_SCOPE_KEY = "maintenance.admitted"
"""The scope key under which the guard records the epoch a counted request belongs to.

A drain started inside that request finds it there, through the registry's
binding, and does not wait for its own request.
"""

_ATTRIBUTE = "_maintenance_core_inflight"


class DrainTimeoutError(MaintenanceError, TimeoutError):
    """Requests admitted before maintenance turned on were still running at the deadline.

    Raised by ``maintenance_mode_on(drain=...)``, after it has released the
    override: the block never ran. :attr:`result` says how many requests were
    still running, and, in a fleet, which instances had not drained.
    """

    def __init__(self, result: DrainResult) -> None:
        self.result = result
        super().__init__(
            f"Maintenance was not drained within {result.timeout:g}s: {result.summary()}. "
            "The override was released, so maintenance is back to the state before the "
            "block; retry with a longer drain, or find the long requests."
        )


class FleetNotSupportedError(MaintenanceError):
    """The backend has no fleet of instances to list or wait for (only Redis has one)."""

    def __init__(self, backend: StateBackend) -> None:
        super().__init__(
            f"{backend.describe()} does not track the processes serving it: listing "
            "instances and waiting for the fleet to drain need the redis backend."
        )


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    """One live instance of a fleet (a process serving with a ``RedisBackend``), as
    it last reported itself.

    Attributes:
        instance: its id, ``"<hostname>:<pid>:<random>"``.
        generation: the last change of the state it has seen (a counter in Redis).
        on: whether maintenance is on for the requests it serves (its overrides
            and the stored state, as of that change).
        drained: no request it admitted before that change is still running.
        running: requests in flight that maintenance would refuse, at its last
            heartbeat (the ones still draining, while ``drained`` is false).
        expires_in: seconds until its heartbeat expires if it is not renewed.
    """

    instance: str
    generation: int
    on: bool
    drained: bool
    running: int
    expires_in: float

    @property
    def host(self) -> str:
        """The host part of :attr:`instance`."""
        return self.instance.rsplit(":", 2)[0]

    @property
    def pid(self) -> int | None:
        """The process id part of :attr:`instance`, if it has one."""
        parts = self.instance.rsplit(":", 2)
        return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None

    def describe(self) -> str:
        """One line, e.g. ``web-1:4242:1a2b3c: ON, draining (2 requests running)``."""
        word = "ON" if self.on else "OFF"
        if self.drained:
            how = "drained" if self.on else "serving"
        else:
            how = f"draining ({_requests(self.running)} running)"
        return f"{self.instance}: {word}, {how}"


@dataclass(frozen=True, slots=True)
class DrainResult:
    """What a drain found.

    Attributes:
        drained: every request admitted before the change has finished (in a
            fleet: every live instance has acknowledged the change, drained).
        still_running: requests still running when the drain gave up (in a
            fleet: the sum the stragglers last reported); 0 when drained.
        stragglers: the live instances that had not acknowledged the change,
            drained, by the deadline (always empty for a drain in one process).
        instances: every live instance at the end of the wait (empty for a
            drain in one process).
        generation: the change the fleet was waited for; ``None`` in one process.
        timeout: the deadline given, in seconds (``inf`` for none).
        waited: how long the drain took, in seconds.
    """

    drained: bool
    still_running: int
    stragglers: tuple[InstanceStatus, ...] = ()
    instances: tuple[InstanceStatus, ...] = ()
    generation: int | None = None
    timeout: float = math.inf
    waited: float = 0.0

    def summary(self) -> str:
        """One line for a log or a command line, e.g.
        ``2 requests still running on 1 instance: web-1:4242:1a2b3c (2 requests running)``."""
        if self.drained:
            if self.generation is None:
                return "drained"
            return f"drained: {_count(len(self.instances), 'live instance')} acknowledged"
        if self.generation is None:
            return f"{_requests(self.still_running)} still running in this process"
        names = ", ".join(f"{s.instance} ({_requests(s.running)} running)" for s in self.stragglers)
        return (
            f"{_requests(self.still_running)} still running on "
            f"{_count(len(self.stragglers), 'instance')} not drained: {names}"
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _requests(n: int) -> str:
    return _count(n, "request")


def check_drain_timeout(timeout: float | None, name: str = "drain") -> float:
    """Validate a drain deadline: a finite number of seconds, 0 or more (``None``: no limit).

    Raises:
        ConfigurationError: for anything else.
    """
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ConfigurationError(f"{name} must be a number of seconds, got {timeout!r}.")
    if not math.isfinite(timeout) or timeout < 0:
        raise ConfigurationError(
            f"{name}={timeout!r} is not usable: give a finite number of seconds, 0 or more."
        )
    return float(timeout)


class Epoch:
    """The requests that entered the guard between two drains (see :class:`InflightRequests`)."""

    __slots__ = ("running", "waiting", "watched")

    def __init__(self) -> None:
        self.running = 0  # entered and not finished
        self.waiting = 0  # of those, ones blocked in a drain: not writing, not waited for
        self.watched = False  # a drain waits for this epoch: tell it when a request ends


class _Waiter:
    """Wakes one waiting drain, from the thread of its event loop or another one."""

    def __init__(self) -> None:
        self.event = anyio.Event()
        self._thread = threading.get_ident()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio: requests end on this loop's thread
            self._loop = None

    def arm(self) -> anyio.Event:
        self.event = anyio.Event()
        return self.event

    def _set(self) -> None:
        self.event.set()

    def __call__(self) -> None:
        if self._loop is None or threading.get_ident() == self._thread:
            self.event.set()
        else:  # a request served by another event loop (a TestClient's thread)
            with suppress(RuntimeError):  # that loop is closed: nobody waits any more
                self._loop.call_soon_threadsafe(self._set)


def _pending(epochs: Sequence[Epoch]) -> int:
    return sum(max(epoch.running - epoch.waiting, 0) for epoch in epochs)


class InflightRequests:
    """The requests guarded on one backend that maintenance would refuse, by epoch.

    One per backend instance (see :func:`inflight_of`), shared by every guard
    that reads that backend. A guard reads :attr:`epoch` before a request reads
    the state, adds the request to that epoch's ``running`` when it passes it
    to the app (unless the epoch has ended meanwhile: the request is then
    decided again), takes it off when the app is done, and calls :meth:`wake`
    if a drain watches that epoch.
    """

    def __init__(self) -> None:
        self.epoch = Epoch()
        self._earlier: list[Epoch] = []
        self._waiters: list[_Waiter] = []
        self.serving = False
        """Whether a guard serves requests with this backend (a fleet instance)."""

    @property
    def running(self) -> int:
        """Requests in flight now that maintenance would refuse (in every epoch),
        not counting requests that are waiting on a drain."""
        return _pending([*self._earlier, self.epoch])

    def wake(self) -> None:
        """Let every waiting drain look again (a request finished)."""
        for waiter in tuple(self._waiters):
            waiter()

    def rotate(self) -> tuple[Epoch, ...]:
        """Start a new epoch; return the earlier ones that still have requests running.

        Call it once the new state is in effect in this process: every request
        that read the earlier state entered the guard before, so it is counted
        in one of the epochs returned.
        """
        current = self.epoch
        self.epoch = Epoch()
        earlier = [epoch for epoch in (*self._earlier, current) if epoch.running > 0]
        for epoch in earlier:
            epoch.watched = True
        self._earlier = earlier
        return tuple(earlier)

    async def wait(
        self,
        epochs: Sequence[Epoch],
        timeout: float = math.inf,  # noqa: ASYNC109 - a deadline that returns, not raises
        own: Epoch | None = None,
    ) -> int:
        """Wait until the requests of *epochs* have finished, or *timeout* seconds.

        Args:
            epochs: what :meth:`rotate` returned.
            timeout: seconds; ``inf`` for no limit.
            own: the epoch of the request this drain runs in, not waited for.

        Returns:
            How many of those requests are still running (0: drained).
        """
        waiter = _Waiter()
        self._waiters.append(waiter)
        if own is not None:
            own.waiting += 1
            self.wake()  # other drains (a fleet acknowledgement) need not wait for it either
        try:
            with anyio.move_on_after(timeout):
                while True:
                    event = waiter.arm()
                    if not _pending(epochs):
                        break
                    await event.wait()
            return _pending(epochs)
        finally:
            self._waiters.remove(waiter)
            if own is not None:
                own.waiting -= 1

    async def drain(
        self,
        timeout: float = math.inf,  # noqa: ASYNC109 - a deadline that returns, not raises
        own: Epoch | None = None,
    ) -> int:
        """Start a new epoch and wait for the earlier ones (see :meth:`wait`)."""
        return await self.wait(self.rotate(), timeout, own)

    def own_epoch(self, scope: MutableMapping[str, Any] | None) -> Epoch | None:
        """The epoch a request counted by this tracker belongs to, from its scope."""
        if scope is None:
            return None
        epoch = scope.get(ADMITTED_SCOPE_KEY)
        if not isinstance(epoch, Epoch) or epoch.running <= 0:
            return None
        if epoch is not self.epoch and epoch not in self._earlier:
            return None  # counted by another backend's tracker
        return epoch


def inflight_of(backend: StateBackend) -> InflightRequests:
    """The in-flight requests guarded on *backend*, created on first use."""
    namespace = vars(backend)
    tracker = namespace.get(_ATTRIBUTE)
    if tracker is None:
        tracker = namespace.setdefault(_ATTRIBUTE, InflightRequests())
    return tracker  # type: ignore[no-any-return]


@runtime_checkable
class FleetBackend(Protocol):
    """A backend whose serving processes report themselves (``RedisBackend``)."""

    async def wait_fleet_drained(self, timeout: float) -> DrainResult:  # noqa: ASYNC109
        """Wait until every live instance has acknowledged the current state, drained."""
        ...

    async def list_instances(self) -> list[InstanceStatus]:
        """The live instances, as they last reported themselves."""
        ...


def supports_fleet(backend: StateBackend) -> bool:
    """Whether *backend* knows the processes serving it (``on --wait`` and the
    instance list of ``status`` need it)."""
    return isinstance(backend, FleetBackend)


async def list_instances(backend: StateBackend) -> list[InstanceStatus]:
    """The live instances serving *backend*, sorted by id.

    Raises:
        FleetNotSupportedError: for a backend without a fleet (not Redis).
        RedisUnavailableError: if Redis does not answer.
    """
    if not isinstance(backend, FleetBackend):
        raise FleetNotSupportedError(backend)
    return await backend.list_instances()


async def wait_drained(
    backend: StateBackend,
    timeout: float | None = None,  # noqa: ASYNC109 - a deadline that returns, not raises
    *,
    fleet: bool | None = None,
    scope: MutableMapping[str, Any] | None = None,
) -> DrainResult:
    """Wait until the requests admitted before the current state have finished.

    In one process, the requests guarded on *backend* that entered the guard
    before this call are waited for. With ``fleet`` (the default for a backend
    that has one, Redis), every live instance must acknowledge the state current
    when this call starts, drained; this process is one of them when it serves
    requests with *backend*.

    Args:
        backend: the backend whose requests to wait for.
        timeout: seconds to wait at most; ``None`` for no limit.
        fleet: ``True`` for the fleet, ``False`` for this process only; by
            default the fleet when the backend has one.
        scope: the ASGI scope of the request this call runs in, if any: that
            request is not waited for. ``maintenance_mode_on(drain=...)`` finds
            it by itself.

    Returns:
        A :class:`DrainResult`; on timeout ``drained`` is false and it says how
        many requests were still running, and where.

    Raises:
        ConfigurationError: for a timeout that is not a number of seconds, 0 or more.
        FleetNotSupportedError: for ``fleet=True`` on a backend without a fleet.
        RedisUnavailableError: if Redis does not answer (fleet).
    """
    limit = check_drain_timeout(timeout, "timeout")
    if fleet is None:
        fleet = isinstance(backend, FleetBackend)
    if fleet and not isinstance(backend, FleetBackend):
        raise FleetNotSupportedError(backend)
    inflight = inflight_of(backend)
    own = inflight.own_epoch(scope)
    started = time.monotonic()
    if fleet:
        assert isinstance(backend, FleetBackend)
        if own is None:
            return await backend.wait_fleet_drained(limit)
        # This process acknowledges through its own instance, which must not wait
        # for the request this drain runs in.
        own.waiting += 1
        inflight.wake()
        try:
            return await backend.wait_fleet_drained(limit)
        finally:
            own.waiting -= 1
    left = await inflight.drain(limit, own)
    return DrainResult(
        drained=not left,
        still_running=left,
        timeout=limit,
        waited=time.monotonic() - started,
    )
