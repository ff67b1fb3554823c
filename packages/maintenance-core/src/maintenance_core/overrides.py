"""Temporary overrides: ``maintenance_mode_on()`` and ``maintenance_mode_off()``.

Overrides are counted per backend instance. Maintenance stays on while any
``on`` override is held, is off while only ``off`` overrides are held, and the
state from before the first override comes back when the last one leaves, in
whatever order tasks enter and leave, and also after an exception or a
cancellation.

On a writable backend the effective value is also written, so other processes
(other workers, the CLI) see it. On a read-only backend the override lives only
in this process's memory.

``maintenance_mode_on(drain=SECONDS)`` also waits, when the block is entered,
for the requests admitted before maintenance turned on (see :mod:`.drain`).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from ._log import get_logger
from ._mutex import Mutex
from .coverage import WHOLE_SITE, Coverage
from .drain import DrainResult, DrainTimeoutError, check_drain_timeout, wait_drained
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .backends.base import StateBackend
    from .state import MaintenanceState

__all__ = ["MaintenanceOverride", "OverrideState", "OverrideStore", "overrides_of"]

_ATTRIBUTE = "_maintenance_core_overrides"


class OverrideStore(Protocol):
    """Where the overrides held on one backend are kept.

    The default, :class:`OverrideState`, counts them in this process; a shared
    backend (Redis) keeps them as leases that every process sees.
    """

    @property
    def active(self) -> bool | None:
        """``True``/``False`` while an ``on``/``off`` override is held (``on``
        wins), else ``None``."""
        ...

    @property
    def coverage(self) -> Coverage:
        """What the ``on`` overrides held cover together (their
        :meth:`~maintenance_core.coverage.Coverage.union`); the whole site when none is."""
        ...

    @property
    def held(self) -> tuple[int, int]:
        """How many ``on`` and ``off`` overrides this process holds."""
        ...

    @property
    def held_everywhere(self) -> tuple[int, int]:
        """How many ``on`` and ``off`` overrides are held by every process sharing the store."""
        ...

    async def enter(
        self, value: bool, backend: StateBackend, coverage: Coverage = WHOLE_SITE
    ) -> object:
        """Hold one more override of *value* (an ``on`` one covering *coverage*);
        return a token for :meth:`leave`."""
        ...

    async def leave(
        self,
        value: bool,
        backend: StateBackend,
        token: object = None,
        coverage: Coverage = WHOLE_SITE,
    ) -> None:
        """Release the override that :meth:`enter` returned *token* for."""
        ...

    async def set_baseline_or_store(self, state: MaintenanceState, backend: StateBackend) -> None:
        """Store *state* as the backend's own state (``set_maintenance_mode``)."""
        ...


class OverrideState:
    """The overrides held on one backend instance, counted in this process.

    Read :attr:`active` to know what the overrides say right now; it is a plain
    attribute read, cheap enough for every request.
    """

    def __init__(self) -> None:
        self._on = 0
        self._off = 0
        self.active: bool | None = None
        """``True`` while an ``on`` override is held, else ``False`` while an
        ``off`` override is held, else ``None`` (no override)."""
        self._on_coverages: list[Coverage] = []
        self.coverage: Coverage = WHOLE_SITE
        """What the ``on`` overrides held cover together (the whole site when none is)."""
        self._baseline: MaintenanceState | None = None
        self._written: MaintenanceState | None = None
        self._mutex = Mutex()

    @property
    def held(self) -> tuple[int, int]:
        """How many ``on`` and ``off`` overrides are held."""
        return self._on, self._off

    @property
    def held_everywhere(self) -> tuple[int, int]:
        """The same as :attr:`held`: these overrides are this process's own."""
        return self._on, self._off

    async def enter(
        self, value: bool, backend: StateBackend, coverage: Coverage = WHOLE_SITE
    ) -> object:
        """Count one more override of *value* and store the new effective state."""
        async with self._mutex:
            first = self.active is None
            if first and backend.writable:
                self._baseline = await backend.get_state()
                self._written = self._baseline
            self._count(value, +1, coverage)
            previous = self._written
            try:
                await self._store(backend)
            except BaseException:
                self._count(value, -1, coverage)
                # The failed write may still have reached the store (a timeout or a
                # cancellation after the server applied it): put the earlier value back.
                with anyio.CancelScope(shield=True):
                    await self._undo_write(previous, backend)
                if first:
                    self._baseline = self._written = None
                raise
        return None

    async def leave(
        self,
        value: bool,
        backend: StateBackend,
        token: object = None,
        coverage: Coverage = WHOLE_SITE,
    ) -> None:
        """Count one override less; restore the baseline when it was the last."""
        with anyio.CancelScope(shield=True):
            async with self._mutex:
                self._count(value, -1, coverage)
                await self._store(backend)
                if self.active is None:
                    self._baseline = self._written = None

    async def set_baseline_or_store(self, state: MaintenanceState, backend: StateBackend) -> None:
        """Store *state*, or, while overrides are held, make it the state to restore."""
        backend.check_storable(state)  # now, not when the last override leaves
        async with self._mutex:
            if self.active is not None and backend.writable:
                self._baseline = state
                # What is written while held is built on the baseline (its secret, its
                # coverage under a partial block): written again from the new one.
                await self._store(backend)
                return
            await backend.set_state(state)

    async def _undo_write(self, previous: MaintenanceState | None, backend: StateBackend) -> None:
        if previous is None or not backend.writable:
            return
        try:
            await backend.set_state(previous)
        except Exception as exc:
            self._written = None  # unknown: the next change writes unconditionally
            get_logger("overrides").error(
                "Could not restore the maintenance state of %s after a failed override (%s: %s).",
                backend.describe(),
                type(exc).__name__,
                exc,
            )
        else:
            self._written = previous

    def _count(self, value: bool, delta: int, coverage: Coverage = WHOLE_SITE) -> None:
        if value:
            self._on += delta
            if delta > 0:
                self._on_coverages.append(coverage)
            else:
                self._on_coverages.remove(coverage)
            self.coverage = _union(self._on_coverages)
        else:
            self._off += delta
        # Kept as plain attributes: every request reads them.
        self.active = True if self._on else False if self._off else None

    async def _store(self, backend: StateBackend) -> None:
        if not backend.writable:
            return
        active = self.active
        baseline = self._baseline
        if baseline is None:
            return
        if active is None:
            desired = baseline
        else:
            coverage = self.coverage
            if active and not coverage.whole_site and baseline.is_on_now():
                # A partial block adds to the stored maintenance, never narrows it.
                coverage = coverage.union(baseline.coverage)
            desired = baseline.overridden(active, coverage)
        if desired == self._written:
            return
        await backend.set_state(desired)
        self._written = desired


def _union(coverages: list[Coverage]) -> Coverage:
    """What all of *coverages* cover together (the whole site for none)."""
    if not coverages:
        return WHOLE_SITE
    combined = coverages[0]
    for coverage in coverages[1:]:
        combined = combined.union(coverage)
    return combined


def overrides_of(backend: StateBackend) -> OverrideStore:
    """Return the override store of *backend*, created on first use by
    :meth:`~maintenance_core.backends.StateBackend.create_override_store`."""
    try:
        namespace = vars(backend)
    except TypeError:
        raise TypeError(
            f"{type(backend).__name__} has no __dict__ (it uses __slots__): add '__dict__' "
            "to its __slots__ so overrides can be attached to it."
        ) from None
    store = namespace.get(_ATTRIBUTE)
    if store is None:
        store = namespace.setdefault(_ATTRIBUTE, backend.create_override_store())
    return store  # type: ignore[no-any-return]


class MaintenanceOverride:
    """An async context manager that holds one override while its block runs.

    Created by ``maintenance_mode_on()`` / ``maintenance_mode_off()``. The
    backend is chosen when the block is entered: the one given explicitly, else
    the one the surrounding app uses.

    Args:
        value: ``True`` for an ``on`` override.
        backend: the backend to override, else ``default_backend()`` when entered.
        default_backend: the backend of the surrounding app.
        drain: for an ``on`` override, seconds to wait when entering for the
            requests admitted before (see ``maintenance_mode_on``); ``None``: no wait.
        current_scope: returns the scope of the request the block is entered
            from, which the drain does not wait for.

    Raises:
        ConfigurationError: for a ``drain`` that is not a number of seconds, 0 or
            more, or a ``drain`` on an ``off`` override.
    """

    def __init__(
        self,
        value: bool,
        backend: StateBackend | None,
        default_backend: Callable[[], StateBackend],
        *,
        drain: float | None = None,
        current_scope: Callable[[], MutableMapping[str, Any] | None] | None = None,
        coverage: Coverage = WHOLE_SITE,
    ) -> None:
        if not value and not coverage.whole_site:
            raise ConfigurationError(
                "read_only and groups apply to maintenance_mode_on() only: "
                "maintenance_mode_off() turns maintenance off for every request."
            )
        self.value = value
        self.coverage = coverage
        """What this override covers while held (an ``on`` override)."""
        self._backend = backend
        self._default_backend = default_backend
        self._entered: StateBackend | None = None
        self._token: object = None
        if drain is not None:
            check_drain_timeout(drain)
            if not value:
                raise ConfigurationError("drain applies to maintenance_mode_on() only.")
        self.drain = drain
        self._current_scope = current_scope
        self.drain_result: DrainResult | None = None
        """What the drain found when the block was entered (``None`` without ``drain``)."""

    @property
    def backend(self) -> StateBackend:
        """The backend this override applies to."""
        return self._entered or self._backend or self._default_backend()

    async def __aenter__(self) -> MaintenanceOverride:
        if self._entered is not None:
            raise RuntimeError("This maintenance override is already active; create a new one.")
        backend = self.backend
        store = overrides_of(backend)
        if self.coverage.whole_site:  # stores written before partial maintenance work too
            self._token = await store.enter(self.value, backend)
        else:
            self._token = await store.enter(self.value, backend, self.coverage)
        self._entered = backend
        if self.drain is None:
            return self
        scope = self._current_scope() if self._current_scope is not None else None
        try:
            result = await wait_drained(backend, self.drain, scope=scope)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        self.drain_result = result
        if not result.drained:
            # The block must not run while requests are still writing: release the
            # override, as if the block had never been entered.
            await self.__aexit__(None, None, None)
            raise DrainTimeoutError(result)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        backend = self._entered
        if backend is None:
            return
        self._entered = None
        store = overrides_of(backend)
        if self.coverage.whole_site:
            await store.leave(self.value, backend, self._token)
        else:
            await store.leave(self.value, backend, self._token, self.coverage)
