"""``decide()`` and the state reader against a model of the documented precedence.

The model follows docs/precedence.md: for a request that reaches an existing
route, the first rule that applies wins (forced on, forced off, exempt, a held
override block, ``enable_maintenance`` else the backend's state); a request no
route serves always proceeds. ``decide()`` also documents that the state reader
and the exemption handler are called only when their answer can change the
outcome, and the state reader reads the backend only when rules 4 and 5 leave it
to the backend.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import ClassVar

import anyio
from fastapi_maintenance import maintenance_mode_off, maintenance_mode_on
from fastapi_maintenance.backends import BaseStateBackend
from hypothesis import given, settings
from hypothesis import strategies as st
from maintenance_core.decision import RouteInfo, StateReader, decide
from maintenance_core.markers import ForcedMode


@dataclass(frozen=True)
class Case:
    exists: bool  # a route serves the path and method
    forced: ForcedMode | None  # the endpoint's marker
    builtin_exempt: bool  # one of the framework's docs pages
    exempt_handler: bool | None  # None: no exemption handler; else its answer
    held_on: int  # maintenance_mode_on() blocks held
    held_off: int  # maintenance_mode_off() blocks held
    enable_maintenance: bool | None
    backend_on: bool
    writable: bool  # overrides are written to a writable backend, held in memory otherwise


cases = st.builds(
    Case,
    exists=st.booleans(),
    forced=st.sampled_from([None, ForcedMode.ON, ForcedMode.OFF]),
    builtin_exempt=st.booleans(),
    exempt_handler=st.sampled_from([None, True, False]),
    held_on=st.integers(0, 2),
    held_off=st.integers(0, 2),
    enable_maintenance=st.sampled_from([None, True, False]),
    backend_on=st.booleans(),
    writable=st.booleans(),
)


class PrecedenceModel:
    """docs/precedence.md, rule by rule."""

    def __init__(self, case: Case) -> None:
        self.case = case

    @property
    def undecided_by_route(self) -> bool:
        """No 404/405, no marker, no built-in exemption: rules 4-5 are needed."""
        c = self.case
        return c.exists and c.forced is None and not c.builtin_exempt

    @property
    def maintenance(self) -> bool:
        """Rules 4 and 5: an ``on`` block wins over an ``off`` block; then
        ``enable_maintenance`` when given, else the backend's state."""
        c = self.case
        if c.held_on:
            return True
        if c.held_off:
            return False
        if c.enable_maintenance is not None:
            return c.enable_maintenance
        return c.backend_on

    @property
    def refused(self) -> bool:
        c = self.case
        if not c.exists:
            return False  # the app answers its 404/405
        if c.forced is ForcedMode.ON:
            return True
        if c.forced is ForcedMode.OFF:
            return False
        if c.builtin_exempt:
            return False
        # Rule 3 (the exemption handler) only matters once maintenance is on.
        if not self.maintenance:
            return False
        return c.exempt_handler is not True

    @property
    def asks_state(self) -> bool:
        return self.undecided_by_route

    @property
    def asks_handler(self) -> bool:
        """ "exempt_handler is called only while maintenance is on, and never for
        marked endpoints or docs pages"."""
        return self.undecided_by_route and self.maintenance and self.case.exempt_handler is not None

    @property
    def reads_backend(self) -> bool:
        c = self.case
        return self.asks_state and not c.held_on and not c.held_off and c.enable_maintenance is None


class CountingBackend(BaseStateBackend):
    """A writable store that counts how often the state is read."""

    def __init__(self, value: bool) -> None:
        self.value = value
        self.reads = 0

    async def get_value(self) -> bool:
        self.reads += 1
        return self.value

    async def set_value(self, value: bool) -> None:
        self.value = value


class CountingReadOnlyBackend(CountingBackend):
    """Like the environment backend: overrides stay in memory."""

    writable: ClassVar[bool] = False

    async def set_value(self, value: bool) -> None:
        raise AssertionError("a read-only backend is never written")


class Spy:
    """An async callable giving a fixed or delegated answer, counting its calls."""

    def __init__(self, answer: bool | None = None, reader: StateReader | None = None) -> None:
        self.answer = answer
        self.reader = reader
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        if self.reader is not None:
            return await self.reader.is_on()
        assert self.answer is not None
        return self.answer


async def run_case(case: Case) -> tuple[bool, int, int, int]:
    """Decide *case*: (refused, state reader calls, handler calls, backend reads)."""
    backend = (CountingBackend if case.writable else CountingReadOnlyBackend)(case.backend_on)
    reader = StateReader(backend, enable_maintenance=case.enable_maintenance)
    state = Spy(reader=reader)
    handler = Spy(case.exempt_handler) if case.exempt_handler is not None else None
    route = RouteInfo(exists=case.exists, forced=case.forced, exempt=case.builtin_exempt)
    async with AsyncExitStack() as stack:
        for _ in range(case.held_on):
            await stack.enter_async_context(maintenance_mode_on(backend=backend))
        for _ in range(case.held_off):
            await stack.enter_async_context(maintenance_mode_off(backend=backend))
        backend.reads = 0  # entering a block may read the state to restore it later
        refused = await decide(route, state, handler)
        reads = backend.reads
    # After the blocks leave, the writable backend holds its own state again.
    assert backend.value is case.backend_on
    return refused, state.calls, handler.calls if handler is not None else 0, reads


@settings(max_examples=800, deadline=None, database=None)
@given(case=cases)
def test_decide_follows_the_documented_precedence(case: Case) -> None:
    model = PrecedenceModel(case)
    refused, state_calls, handler_calls, backend_reads = anyio.run(run_case, case)

    assert refused is model.refused
    # Asked only when the answer can change the outcome, and then once.
    assert state_calls == int(model.asks_state)
    assert handler_calls == int(model.asks_handler)
    # An override or enable_maintenance decides without reading the backend.
    assert backend_reads == int(model.reads_backend)
