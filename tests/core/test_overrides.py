"""Overrides: ``maintenance_mode_on()``/``maintenance_mode_off()`` counted per backend."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
from maintenance_core import (
    BackendRegistry,
    BaseStateBackend,
    EnvVarBackend,
    InvalidStateValueError,
    LocalFileBackend,
    MaintenanceOverride,
    MemoryBackend,
    OverrideState,
    overrides_of,
)
from maintenance_core.state import MaintenanceState

from tests.support.waiting import eventually

from ._helpers import Holder, SpyEnvBackend, SpyMemoryBackend, names_in

pytestmark = pytest.mark.anyio

ENV_VAR = "CORE_TEST_MAINTENANCE"


@pytest.fixture
def registry() -> BackendRegistry:
    return BackendRegistry("core_test", EnvVarBackend)


@pytest.fixture(params=["memory", "file"])
def make_writable(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], BaseStateBackend]:
    counter = iter(range(1000))

    def make() -> BaseStateBackend:
        if request.param == "memory":
            return MemoryBackend()
        return LocalFileBackend(tmp_path / f"state-{next(counter)}.txt")

    return make


@pytest.fixture
async def guard() -> AsyncIterator[None]:
    # Not a synchronisation device: a deadlock fails the test instead of hanging the run.
    with anyio.fail_after(10):
        yield


async def stored(backend: BaseStateBackend) -> bool:
    return await backend.get_value()


# --- basic on/off on writable backends -----------------------------------------------------


@pytest.mark.parametrize("previous", [False, True])
async def test_on_writes_true_during_block_and_restores_previous(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend], previous: bool
) -> None:
    backend = make_writable()
    await backend.set_value(previous)
    async with registry.maintenance_mode_on(backend) as override:
        assert isinstance(override, MaintenanceOverride)
        assert override.backend is backend
        assert await stored(backend) is True
        assert await registry.get_maintenance_mode(backend) is True
        assert overrides_of(backend).active is True
        assert overrides_of(backend).held == (1, 0)
    assert await stored(backend) is previous
    assert await registry.get_maintenance_mode(backend) is previous
    assert overrides_of(backend).active is None
    assert overrides_of(backend).held == (0, 0)


@pytest.mark.parametrize("previous", [False, True])
async def test_off_writes_false_during_block_and_restores_previous(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend], previous: bool
) -> None:
    backend = make_writable()
    await backend.set_value(previous)
    async with registry.maintenance_mode_off(backend):
        assert await stored(backend) is False
        assert await registry.get_maintenance_mode(backend) is False
        assert overrides_of(backend).active is False
    assert await stored(backend) is previous
    assert overrides_of(backend).active is None


async def test_file_override_is_visible_to_another_process_view(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    other = LocalFileBackend(path)  # what another worker would read
    async with MaintenanceOverride(True, backend, lambda: pytest.fail("not used")):
        assert path.read_text(encoding="utf-8") == "1"
        assert await other.get_value() is True  # its first read
    assert path.read_text(encoding="utf-8") == "0"
    # Afterwards the other worker sees the change at its next file check (0.5 s by default).
    assert await eventually(other.get_value, lambda on: on is False, timeout=2.0) is False
    assert names_in(tmp_path) == ["state.txt"]


async def test_override_directly_without_registry() -> None:
    backend = MemoryBackend()
    default_calls: list[None] = []

    def default() -> BaseStateBackend:
        default_calls.append(None)
        return MemoryBackend()

    override = MaintenanceOverride(True, backend, default)
    assert override.value is True
    async with override:
        assert await backend.get_value() is True
    assert await backend.get_value() is False
    assert default_calls == []


async def test_override_uses_default_backend_chosen_at_entry(registry: BackendRegistry) -> None:
    chosen = MemoryBackend()
    other = MemoryBackend()
    override = registry.maintenance_mode_on()  # no backend yet
    token = registry.bind(chosen)
    try:
        async with override:
            assert override.backend is chosen
            assert await chosen.get_value() is True
            assert await other.get_value() is False
            # Binding something else meanwhile does not move the held override.
            inner = registry.bind(other)
            assert override.backend is chosen
            registry.unbind(inner)
    finally:
        registry.unbind(token)
    assert await chosen.get_value() is False
    assert overrides_of(chosen).held == (0, 0)


def test_overrides_of_is_one_state_per_backend() -> None:
    a, b = MemoryBackend(), MemoryBackend()
    assert isinstance(overrides_of(a), OverrideState)
    assert overrides_of(a) is overrides_of(a)
    assert overrides_of(a) is not overrides_of(b)
    assert overrides_of(a).active is None
    assert overrides_of(a).held == (0, 0)


def test_overrides_of_object_without_dict_raises_type_error() -> None:
    class Slotted:
        __slots__ = ()

    with pytest.raises(TypeError, match="__slots__"):
        overrides_of(Slotted())  # type: ignore[arg-type]


async def test_overrides_work_on_a_custom_backend_subclass() -> None:
    class Custom(BaseStateBackend):
        __slots__ = ()  # BaseStateBackend has no __slots__: instances still get a __dict__

        def __init__(self) -> None:
            self.value = False

        async def get_value(self) -> bool:
            return self.value

        async def set_value(self, value: bool) -> None:
            self.value = value

    backend = Custom()
    async with MaintenanceOverride(True, backend, lambda: backend):
        assert backend.value is True
    assert backend.value is False


# --- exceptions and cancellation -----------------------------------------------------------


@pytest.mark.parametrize("previous", [False, True])
async def test_exception_in_block_restores_and_propagates(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend], previous: bool
) -> None:
    backend = make_writable()
    await backend.set_value(previous)

    class Boom(Exception):
        pass

    seen: list[bool] = []

    async def failing_block(value: bool) -> None:
        async with MaintenanceOverride(value, backend, registry.current_backend):
            seen.append(await stored(backend))
            raise Boom

    with pytest.raises(Boom):
        await failing_block(True)
    assert seen == [True]
    assert await stored(backend) is previous
    assert overrides_of(backend).held == (0, 0)

    with pytest.raises(Boom):
        await failing_block(False)
    assert seen == [True, False]
    assert await stored(backend) is previous
    assert overrides_of(backend).held == (0, 0)


@pytest.mark.usefixtures("guard")
@pytest.mark.parametrize("previous", [False, True])
async def test_cancellation_inside_block_restores(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend], previous: bool
) -> None:
    backend = make_writable()
    await backend.set_value(previous)
    holder = Holder(registry.maintenance_mode_on(backend))
    async with anyio.create_task_group() as tg:
        await holder.enter(tg)
        assert await stored(backend) is True
        await holder.cancel()
    assert holder.scope is not None
    assert holder.scope.cancelled_caught
    assert await stored(backend) is previous
    assert overrides_of(backend).held == (0, 0)


@pytest.mark.usefixtures("guard")
async def test_cancel_scope_around_block_restores(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend]
) -> None:
    backend = make_writable()
    reached_end = False
    with anyio.CancelScope() as scope:
        async with registry.maintenance_mode_on(backend):
            assert await stored(backend) is True
            scope.cancel()
            await anyio.lowlevel.checkpoint()
            reached_end = True
    assert scope.cancelled_caught
    assert not reached_end
    assert await stored(backend) is False
    assert overrides_of(backend).held == (0, 0)


@pytest.mark.usefixtures("guard")
async def test_cancelling_whole_task_group_restores_every_override(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend]
) -> None:
    backend = make_writable()
    holders = [Holder(registry.maintenance_mode_on(backend)) for _ in range(3)]
    holders.append(Holder(registry.maintenance_mode_off(backend)))
    async with anyio.create_task_group() as tg:
        for holder in holders:
            await holder.enter(tg)
        assert overrides_of(backend).held == (3, 1)
        assert await stored(backend) is True
        tg.cancel_scope.cancel()
    assert overrides_of(backend).held == (0, 0)
    assert await stored(backend) is False


# --- nesting and concurrency ---------------------------------------------------------------


async def test_nesting_inner_exit_keeps_on_outer_exit_restores(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend]
) -> None:
    backend = make_writable()
    async with registry.maintenance_mode_on(backend):
        async with registry.maintenance_mode_on(backend):
            assert await stored(backend) is True
            assert overrides_of(backend).held == (2, 0)
        assert await stored(backend) is True
        assert overrides_of(backend).active is True
        assert overrides_of(backend).held == (1, 0)
    assert await stored(backend) is False
    assert overrides_of(backend).active is None


@pytest.mark.usefixtures("guard")
@pytest.mark.parametrize("previous", [False, True])
async def test_interleaved_non_lifo_exit_order(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend], previous: bool
) -> None:
    backend = make_writable()
    await backend.set_value(previous)
    a = Holder(registry.maintenance_mode_on(backend))
    b = Holder(registry.maintenance_mode_on(backend))
    async with anyio.create_task_group() as tg:
        await a.enter(tg)
        assert await stored(backend) is True
        await b.enter(tg)
        assert await stored(backend) is True
        await a.leave()  # A leaves first although it entered first
        assert await stored(backend) is True
        assert overrides_of(backend).active is True
        assert overrides_of(backend).held == (1, 0)
        await b.leave()
        assert await stored(backend) is previous
        assert overrides_of(backend).active is None


@pytest.mark.usefixtures("guard")
@pytest.mark.parametrize("previous", [False, True])
async def test_on_off_mixing(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend], previous: bool
) -> None:
    backend = make_writable()
    await backend.set_value(previous)
    off = Holder(registry.maintenance_mode_off(backend))
    on = Holder(registry.maintenance_mode_on(backend))
    async with anyio.create_task_group() as tg:
        await off.enter(tg)
        assert await stored(backend) is False
        assert await registry.get_maintenance_mode(backend) is False
        await on.enter(tg)
        assert await stored(backend) is True  # on wins over off
        assert await registry.get_maintenance_mode(backend) is True
        assert overrides_of(backend).held == (1, 1)
        await on.leave()
        assert await stored(backend) is False  # off still held
        assert overrides_of(backend).active is False
        await off.leave()
        assert await stored(backend) is previous
        assert overrides_of(backend).active is None


@pytest.mark.usefixtures("guard")
async def test_on_entered_before_off_still_wins(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend]
) -> None:
    backend = make_writable()
    on = Holder(registry.maintenance_mode_on(backend))
    off = Holder(registry.maintenance_mode_off(backend))
    async with anyio.create_task_group() as tg:
        await on.enter(tg)
        await off.enter(tg)
        assert await stored(backend) is True
        await off.leave()
        assert await stored(backend) is True
        await on.leave()
        assert await stored(backend) is False


# --- read-only backend ---------------------------------------------------------------------


@pytest.mark.parametrize("env_value", [None, "0", "1"])
async def test_read_only_backend_override_lives_in_memory(
    registry: BackendRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    env_value: str | None,
) -> None:
    if env_value is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, env_value)
    baseline = env_value == "1"
    backend = SpyEnvBackend(ENV_VAR)
    environ_before = dict(os.environ)

    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        async with registry.maintenance_mode_on(backend):
            assert await registry.get_maintenance_mode(backend) is True
            assert await backend.get_value() is baseline  # nothing was written
            async with registry.maintenance_mode_off(backend):
                assert await registry.get_maintenance_mode(backend) is True  # on wins
            assert dict(os.environ) == environ_before
        assert await registry.get_maintenance_mode(backend) is baseline
        async with registry.maintenance_mode_off(backend):
            assert await registry.get_maintenance_mode(backend) is False
        assert await registry.get_maintenance_mode(backend) is baseline

    assert dict(os.environ) == environ_before
    assert backend.set_calls == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.usefixtures("guard")
async def test_read_only_backend_interleaved_and_cancelled(
    registry: BackendRegistry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ENV_VAR, "off")
    backend = SpyEnvBackend(ENV_VAR)
    a = Holder(registry.maintenance_mode_on(backend))
    b = Holder(registry.maintenance_mode_on(backend))
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        async with anyio.create_task_group() as tg:
            await a.enter(tg)
            await b.enter(tg)
            await a.leave()
            assert await registry.get_maintenance_mode(backend) is True
            await b.cancel()
            assert await registry.get_maintenance_mode(backend) is False
    assert overrides_of(backend).held == (0, 0)
    assert backend.set_calls == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


# --- misuse and interaction with set_maintenance_mode --------------------------------------


async def test_same_override_object_cannot_be_entered_twice(registry: BackendRegistry) -> None:
    backend = MemoryBackend()
    override = registry.maintenance_mode_on(backend)
    async with override:
        with pytest.raises(RuntimeError, match="already active"):
            async with override:
                pytest.fail("entered twice")  # pragma: no cover
        assert overrides_of(backend).held == (1, 0)
        assert await backend.get_value() is True
    assert overrides_of(backend).held == (0, 0)
    assert await backend.get_value() is False


@pytest.mark.parametrize(
    ("baseline", "override_value", "new_value"),
    [(b, o, n) for b in (False, True) for o in (False, True) for n in (False, True)],
)
async def test_set_maintenance_mode_while_held_changes_state_to_restore(
    registry: BackendRegistry,
    make_writable: Callable[[], BaseStateBackend],
    baseline: bool,
    override_value: bool,
    new_value: bool,
) -> None:
    backend = make_writable()
    await backend.set_value(baseline)
    override = MaintenanceOverride(override_value, backend, registry.current_backend)
    async with override:
        await registry.set_maintenance_mode(new_value, backend)
        assert await stored(backend) is override_value  # the current state is unchanged
        assert await registry.get_maintenance_mode(backend) is override_value
    assert await stored(backend) is new_value
    assert await registry.get_maintenance_mode(backend) is new_value


async def test_set_maintenance_mode_without_override_writes(
    registry: BackendRegistry, make_writable: Callable[[], BaseStateBackend]
) -> None:
    backend = make_writable()
    await registry.set_maintenance_mode(True, backend)
    assert await stored(backend) is True
    await registry.set_maintenance_mode(False, backend)
    assert await stored(backend) is False


async def test_override_on_one_backend_does_not_affect_another(registry: BackendRegistry) -> None:
    a, b = MemoryBackend(), MemoryBackend()
    async with registry.maintenance_mode_on(a):
        assert await registry.get_maintenance_mode(a) is True
        assert await registry.get_maintenance_mode(b) is False
        assert overrides_of(b).active is None
        async with registry.maintenance_mode_off(b):
            assert await registry.get_maintenance_mode(a) is True
            assert await b.get_value() is False
            assert overrides_of(a).held == (1, 0)
            assert overrides_of(b).held == (0, 1)
        await registry.set_maintenance_mode(True, b)
        assert await b.get_value() is True  # b holds no override: written directly
    assert await a.get_value() is False
    assert await b.get_value() is True


async def test_two_file_backends_on_different_files_are_independent(tmp_path: Path) -> None:
    a = LocalFileBackend(tmp_path / "a.txt")
    b = LocalFileBackend(tmp_path / "b.txt")
    async with MaintenanceOverride(True, a, lambda: a):
        assert await a.get_value() is True
        assert await b.get_value() is False
        assert not (tmp_path / "b.txt").exists()


# --- backend errors while entering ---------------------------------------------------------


async def test_read_error_while_entering_propagates_and_counts_nothing(
    registry: BackendRegistry,
) -> None:
    backend = SpyMemoryBackend()
    backend.fail_get = ConnectionError("store unreachable")
    with pytest.raises(ConnectionError, match="unreachable"):
        async with registry.maintenance_mode_on(backend):
            pytest.fail("block must not run")  # pragma: no cover
    assert overrides_of(backend).held == (0, 0)
    assert overrides_of(backend).active is None
    assert backend.writes == []

    # The lock was released and the next override works normally.
    backend.fail_get = None
    async with registry.maintenance_mode_on(backend):
        assert backend._state.on is True
    assert backend._state.on is False
    assert overrides_of(backend).held == (0, 0)


async def test_invalid_stored_value_while_entering_propagates(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("garbage", encoding="utf-8")
    backend = LocalFileBackend(path)
    with pytest.raises(InvalidStateValueError):
        async with MaintenanceOverride(True, backend, lambda: backend):
            pytest.fail("block must not run")  # pragma: no cover
    assert overrides_of(backend).held == (0, 0)
    assert path.read_text(encoding="utf-8") == "garbage"


@pytest.mark.parametrize("value", [True, False])
async def test_write_error_while_entering_propagates_and_counts_nothing(
    registry: BackendRegistry, value: bool
) -> None:
    backend = SpyMemoryBackend(not value)
    backend.fail_set = OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        async with MaintenanceOverride(value, backend, registry.current_backend):
            pytest.fail("block must not run")  # pragma: no cover
    assert overrides_of(backend).held == (0, 0)
    assert overrides_of(backend).active is None
    assert await registry.get_maintenance_mode(backend) is (not value)

    backend.fail_set = None
    async with MaintenanceOverride(value, backend, registry.current_backend):
        assert backend._state.on is value
    assert backend._state.on is (not value)


async def test_write_error_entering_second_override_keeps_first(
    registry: BackendRegistry,
) -> None:
    backend = SpyMemoryBackend(False)
    async with registry.maintenance_mode_off(backend):
        backend.fail_set = OSError("disk full")
        with pytest.raises(OSError, match="disk full"):
            async with registry.maintenance_mode_on(backend):
                pytest.fail("block must not run")  # pragma: no cover
        assert overrides_of(backend).held == (0, 1)
        assert overrides_of(backend).active is False
        backend.fail_set = None
    assert overrides_of(backend).held == (0, 0)
    assert backend._state.on is False


class _GatedWriteBackend(MemoryBackend):
    """A remote-like store: the write lands, then the reply is awaited."""

    def __init__(self) -> None:
        super().__init__(False)
        self.write_landed = anyio.Event()
        self.reply = anyio.Event()
        self.gate_writes = True

    async def set_state(self, state: MaintenanceState) -> None:
        await super().set_state(state)
        if self.gate_writes:
            self.gate_writes = False  # only the first write waits for a reply that never comes
            self.write_landed.set()
            await self.reply.wait()


@pytest.mark.usefixtures("guard")
async def test_cancellation_while_entering_leaves_no_state_behind(
    registry: BackendRegistry,
) -> None:
    backend = _GatedWriteBackend()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:

            async def enter() -> None:
                async with registry.maintenance_mode_on(backend):
                    pytest.fail("block must not run")  # pragma: no cover

            tg.start_soon(enter)
            await backend.write_landed.wait()
            scope.cancel()
    assert overrides_of(backend).held == (0, 0)
    # No override is held, so the state from before must be back.
    assert await registry.get_maintenance_mode(backend) is False


class _GatedReadBackend(MemoryBackend):
    def __init__(self) -> None:
        super().__init__(False)
        self.reading = anyio.Event()
        self.proceed = anyio.Event()
        self.gate = True

    async def get_state(self) -> MaintenanceState:
        if self.gate:
            self.gate = False
            self.reading.set()
            await self.proceed.wait()
        return await super().get_state()


@pytest.mark.usefixtures("guard")
async def test_task_cancelled_while_waiting_to_enter_does_not_block_others(
    registry: BackendRegistry,
) -> None:
    backend = _GatedReadBackend()
    first = Holder(registry.maintenance_mode_on(backend))
    waiting_scope = anyio.CancelScope()
    waiter_done = anyio.Event()

    async def waiter() -> None:
        try:
            with waiting_scope:
                async with registry.maintenance_mode_on(backend):
                    pass
        finally:
            waiter_done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(first.enter, tg)  # blocks in get_value while holding the lock
        await backend.reading.wait()
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()  # the waiter is now queued on the lock
        assert len(overrides_of(backend)._mutex._waiters) == 1
        # Cancel the waiter and release the lock holder in the same step.
        waiting_scope.cancel()
        backend.proceed.set()
        await waiter_done.wait()
        await first.entered.wait()
        assert overrides_of(backend).held == (1, 0)
        assert backend._state.on is True
        # The lock is free again: a third override can come and go.
        async with registry.maintenance_mode_off(backend):
            assert backend._state.on is True
            assert overrides_of(backend).held == (1, 1)
        await first.leave()
    assert overrides_of(backend).held == (0, 0)
    assert backend._state.on is False
    assert len(overrides_of(backend)._mutex._waiters) == 0


class _GateableWriteBackend(MemoryBackend):
    def __init__(self) -> None:
        super().__init__(False)
        self.armed = False
        self.writing = anyio.Event()
        self.release = anyio.Event()

    async def set_state(self, state: MaintenanceState) -> None:
        if self.armed:
            self.armed = False
            self.writing.set()
            await self.release.wait()
        await super().set_state(state)


@pytest.mark.usefixtures("guard")
async def test_cancelled_while_waiting_to_leave_still_leaves(registry: BackendRegistry) -> None:
    backend = _GateableWriteBackend()
    on = Holder(registry.maintenance_mode_on(backend))
    off = Holder(registry.maintenance_mode_off(backend))
    async with anyio.create_task_group() as tg:
        await off.enter(tg)
        await on.enter(tg)
        assert backend._state.on is True
        backend.armed = True
        tg.start_soon(on.leave)  # writes False: blocks in set_value, holding the lock
        await backend.writing.wait()
        off.let_go()  # off now leaves and queues on the lock
        await anyio.wait_all_tasks_blocked()
        assert len(overrides_of(backend)._mutex._waiters) == 1
        assert off.scope is not None
        off.scope.cancel()  # cancelling the leaving task must not skip the bookkeeping
        backend.release.set()
        await off.leave()
        await on.leave()
    assert overrides_of(backend).held == (0, 0)
    assert overrides_of(backend).active is None
    assert backend._state.on is False
    async with registry.maintenance_mode_on(backend):  # the lock is free
        assert backend._state.on is True
    assert backend._state.on is False


def test_overrides_survive_event_loop_changes() -> None:
    """Backends often outlive an event loop (module defaults, test portals)."""
    registry = BackendRegistry("loops", EnvVarBackend)
    backend = _GatedReadBackend()

    async def contended_round(expect_gate: bool) -> None:
        with anyio.fail_after(10):
            first = Holder(registry.maintenance_mode_on(backend))
            second = Holder(registry.maintenance_mode_on(backend))
            async with anyio.create_task_group() as tg:
                if expect_gate:
                    tg.start_soon(first.enter, tg)
                    await backend.reading.wait()
                    tg.start_soon(second.enter, tg)
                    await anyio.wait_all_tasks_blocked()
                    backend.proceed.set()
                    await first.entered.wait()
                    await second.entered.wait()
                else:
                    await first.enter(tg)
                    await second.enter(tg)
                assert overrides_of(backend).held == (2, 0)
                await first.leave()
                await second.leave()
            assert overrides_of(backend).held == (0, 0)
            assert backend._state.on is False

    anyio.run(contended_round, True, backend="asyncio")
    anyio.run(contended_round, False, backend="asyncio")


# --- property-style stress ------------------------------------------------------------------


async def _run_model(
    registry: BackendRegistry,
    backend: BaseStateBackend,
    *,
    seed: int,
    tasks: int,
    writable: bool,
    baseline: bool,
) -> None:
    rng = random.Random(seed)
    values = [rng.random() < 0.5 for _ in range(tasks)]
    holders = [Holder(MaintenanceOverride(v, backend, registry.current_backend)) for v in values]
    pending = list(range(tasks))
    rng.shuffle(pending)
    inside: list[int] = []
    on = off = 0
    steps = 0

    async def check(context: str) -> None:
        expected_active = True if on else (False if off else None)
        effective = baseline if expected_active is None else expected_active
        state = overrides_of(backend)
        assert state.held == (on, off), context
        assert state.active is expected_active, context
        assert await registry.get_maintenance_mode(backend) is effective, context
        if writable:
            assert await backend.get_value() is effective, context
        else:
            assert await backend.get_value() is baseline, context

    async with anyio.create_task_group() as tg:
        await check("start")
        while pending or inside:
            steps += 1
            choice = rng.random()
            if writable and choice < 0.1:
                new = rng.random() < 0.5
                await registry.set_maintenance_mode(new, backend)
                baseline = new
                await check(f"step {steps}: set {new}")
                continue
            if pending and (not inside or choice < 0.55):
                index = pending.pop()
                await holders[index].enter(tg)
                inside.append(index)
                if values[index]:
                    on += 1
                else:
                    off += 1
                action = "enter"
            else:
                index = inside.pop(rng.randrange(len(inside)))
                if rng.random() < 0.2:
                    await holders[index].cancel()
                    action = "cancel"
                else:
                    await holders[index].leave()
                    action = "leave"
                if values[index]:
                    on -= 1
                else:
                    off -= 1
            await check(f"seed {seed} step {steps}: {action} #{index} ({values[index]})")
    await check("end")
    assert steps >= 2 * tasks


@pytest.mark.usefixtures("guard")
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("baseline", [False, True])
async def test_random_interleavings_match_model_memory(
    registry: BackendRegistry, seed: int, baseline: bool
) -> None:
    backend = MemoryBackend(baseline)
    await _run_model(registry, backend, seed=seed, tasks=50, writable=True, baseline=baseline)


@pytest.mark.usefixtures("guard")
@pytest.mark.parametrize("seed", range(2))
async def test_random_interleavings_match_model_file(
    registry: BackendRegistry, tmp_path: Path, seed: int
) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    await _run_model(registry, backend, seed=seed, tasks=50, writable=True, baseline=False)
    assert names_in(tmp_path) == ["state.txt"]


@pytest.mark.usefixtures("guard")
@pytest.mark.parametrize("seed", range(4))
async def test_random_interleavings_match_model_read_only(
    registry: BackendRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    baseline = seed % 2 == 1
    monkeypatch.setenv(ENV_VAR, "1" if baseline else "0")
    backend = SpyEnvBackend(ENV_VAR)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        await _run_model(registry, backend, seed=seed, tasks=50, writable=False, baseline=baseline)
    assert backend.set_calls == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
