"""Random schedules of ``maintenance_mode_on()``/``off()`` blocks against a model.

Several anyio tasks enter and leave blocks in an order hypothesis chooses,
leaving normally, through an exception or through a cancellation, and
``set_maintenance_mode()`` writes come in between. Each generated step happens
exactly in the generated order: a small scheduler sends each task its next
command and waits for the task to acknowledge it (no sleeps). A step may send
commands to several tasks at once (one command per task, at most one write);
those run concurrently, and the model's state after such a batch does not
depend on their order.

After every step, ``get_maintenance_mode()`` and the stored value must match
:class:`OverrideModel`, written from README.md and docs/overrides.md.
"""

from __future__ import annotations

import enum
import logging
import math
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from fastapi_maintenance import (
    get_maintenance_mode,
    maintenance_mode_off,
    maintenance_mode_on,
    set_maintenance_mode,
)
from fastapi_maintenance.backends import (
    BaseStateBackend,
    EnvVarBackend,
    LocalFileBackend,
    MemoryBackend,
)
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from ._spellings import spelled_states

ENV_VAR = "PROPERTIES_MAINTENANCE_MODE"
GUARD_SECONDS = 10  # not a synchronisation device: a deadlock fails instead of hanging
MAX_TASKS = 4
MAX_BATCHES = 24
MAX_BATCH_SIZE = 3


# --- the schedule --------------------------------------------------------------------------


class Exit(enum.Enum):
    """How a task leaves a block."""

    RETURN = "return"  # the block's body ends normally
    RAISE = "raise"  # the body raises; the exception is caught outside the block(s)
    CANCEL = "cancel"  # the scheduler cancels a scope around the block(s)


@dataclass(frozen=True)
class Enter:
    """The task enters one more block, nested in the ones it already holds."""

    task: int
    value: bool  # True: maintenance_mode_on(), False: maintenance_mode_off()


@dataclass(frozen=True)
class Leave:
    """The task leaves its innermost block."""

    task: int
    how: Exit


@dataclass(frozen=True)
class Abort:
    """The task leaves every block it holds at once (RAISE or CANCEL)."""

    task: int
    how: Exit


@dataclass(frozen=True)
class Interrupt:
    """The task starts entering a block and the scheduler cancels it after *delay*
    checkpoints of its own: at whatever point the entry has reached, even before it
    began or after it completed. Either way the block is not held afterwards."""

    task: int
    value: bool
    delay: int


@dataclass(frozen=True)
class Write:
    """``set_maintenance_mode(value)``."""

    value: bool


Action = Enter | Interrupt | Leave | Abort | Write
Batch = tuple[Action, ...]
Command = tuple[Action, anyio.CancelScope | None]


@dataclass(frozen=True)
class Schedule:
    tasks: int
    batches: tuple[Batch, ...]


WRITER = -1

# One raw action: (actor, operation, value, how, delay). Every field is always drawn, so
# hypothesis can shrink a schedule by deleting actions or batches; `normalise`
# turns the raw draws into a valid schedule.
RawAction = tuple[int, str, bool, Exit, int]

raw_actions = st.tuples(
    st.integers(WRITER, MAX_TASKS - 1),
    st.sampled_from(["enter", "enter", "leave", "abort", "interrupt"]),
    st.booleans(),
    st.sampled_from(list(Exit)),
    st.integers(0, 3),
)


def normalise(
    tasks: int, raw_batches: list[list[RawAction]], closing: list[tuple[int, bool, Exit]]
) -> Schedule:
    """A valid schedule from raw draws.

    In a batch a task acts at most once and there is at most one write; a task
    holding no block enters one whatever was drawn. Then the *closing* draws
    leave the blocks still held, choosing among the tasks that hold some, and
    whatever remains is left normally, task by task.
    """
    depth = [0] * tasks
    batches: list[Batch] = []

    def add(batch: list[Action]) -> None:
        for action in batch:
            if isinstance(action, Enter):
                depth[action.task] += 1
            elif isinstance(action, Leave):
                depth[action.task] -= 1
            elif isinstance(action, Abort):
                depth[action.task] = 0
        if batch:
            batches.append(tuple(batch))

    for raw_batch in raw_batches:
        batch: list[Action] = []
        for actor, operation, value, how, delay in raw_batch:
            if actor == WRITER:
                if not any(isinstance(action, Write) for action in batch):
                    batch.append(Write(value))
                continue
            task = actor % tasks
            if any(getattr(action, "task", None) == task for action in batch):
                continue
            if operation == "interrupt":
                batch.append(Interrupt(task, value, delay))
            elif operation == "enter" or not depth[task]:
                batch.append(Enter(task, value))
            elif operation == "leave":
                batch.append(Leave(task, how))
            else:
                batch.append(Abort(task, Exit.RAISE if how is Exit.RETURN else how))
        add(batch)
    for pick, abort, how in closing:
        holders = [task for task in range(tasks) if depth[task]]
        if not holders:
            break
        task = holders[pick % len(holders)]
        add([Abort(task, how) if abort and how is not Exit.RETURN else Leave(task, how)])
    for task in range(tasks):
        while depth[task]:
            add([Leave(task, Exit.RETURN)])
    return Schedule(tasks, tuple(batches))


schedules = st.builds(
    normalise,
    st.integers(1, MAX_TASKS),
    st.lists(st.lists(raw_actions, min_size=1, max_size=MAX_BATCH_SIZE), max_size=MAX_BATCHES),
    st.lists(
        st.tuples(st.integers(0, MAX_TASKS - 1), st.booleans(), st.sampled_from(list(Exit))),
        max_size=MAX_BATCHES,
    ),
)


def describe(schedule: Schedule) -> None:
    """Label what a schedule exercises (``--hypothesis-show-statistics``)."""
    entered: list[int] = []  # the task of each block held, in the order they were entered
    for batch in schedule.batches:
        if len(batch) > 1:
            event("concurrent step")
        for action in batch:
            if isinstance(action, Write):
                event("write while blocks are held" if entered else "write with no block held")
            elif isinstance(action, Enter):
                entered.append(action.task)
            elif isinstance(action, Interrupt):
                event("interrupted entry")
            else:
                if entered[-1] != action.task:
                    event("a block leaves before a block another task entered later")
                event(f"{type(action).__name__.lower()} by {action.how.value}")
                if isinstance(action, Leave):
                    entered.reverse()
                    entered.remove(action.task)
                    entered.reverse()
                else:
                    entered[:] = [task for task in entered if task != action.task]


# --- the model -----------------------------------------------------------------------------


@dataclass
class OverrideModel:
    """The documented semantics of overrides on one backend.

    - While any ``on`` block is held, maintenance is on; else while any ``off``
      block is held, it is off; else the stored state decides.
    - ``set_maintenance_mode()`` stores the value, or, while blocks are held,
      makes it the state restored when the last block leaves. On the read-only
      environment backend it changes nothing (and logs a warning).
    - On a writable backend the effective value is what is stored while blocks
      are held; on the read-only backend the stored value never changes.
    """

    initial: bool
    writable: bool
    state: bool = field(init=False)
    blocks: dict[int, list[bool]] = field(default_factory=dict)
    writes: int = 0

    def __post_init__(self) -> None:
        self.state = self.initial

    @property
    def held(self) -> list[bool]:
        return [value for stack in self.blocks.values() for value in stack]

    @property
    def reported(self) -> bool:
        """What ``get_maintenance_mode()`` says."""
        held = self.held
        if True in held:
            return True
        if False in held:
            return False
        return self.state

    @property
    def stored(self) -> bool:
        """What the backend itself holds (what another process reads)."""
        return self.reported if self.writable else self.initial

    def apply(self, action: Action) -> None:
        if isinstance(action, Write):
            self.writes += 1
            if self.writable:
                self.state = action.value
        elif isinstance(action, Enter):
            self.blocks.setdefault(action.task, []).append(action.value)
        elif isinstance(action, Interrupt):
            pass  # cancelled while entering, or right after: no block is held
        elif isinstance(action, Leave):
            self.blocks[action.task].pop()
        else:
            self.blocks[action.task].clear()


# --- the tasks -----------------------------------------------------------------------------


class BlockFailure(Exception):
    """Raised in a block's body and caught right outside that block."""


class TaskFailure(Exception):
    """Raised in the innermost block's body and caught outside all of the task's blocks."""


ENTERED = "entered"
LEFT = "left"
LEFT_BY_EXCEPTION = "left by exception"
ABORTED_BY_EXCEPTION = "aborted by exception"
CANCELLED = "cancelled"


def expected_outcome(action: Enter | Interrupt | Leave | Abort) -> str:
    if isinstance(action, Enter):
        return ENTERED
    if isinstance(action, Interrupt):
        return CANCELLED
    if action.how is Exit.CANCEL:
        return CANCELLED
    if isinstance(action, Abort):
        return ABORTED_BY_EXCEPTION
    return LEFT if action.how is Exit.RETURN else LEFT_BY_EXCEPTION


class Worker:
    """One task holding nested blocks; each block sits in a cancel scope of its own.

    Commands arrive on an inbox; every entry and every exit is acknowledged, so
    the scheduler knows the step has completed before it checks the model.
    """

    def __init__(self, index: int, backend: BaseStateBackend) -> None:
        self.index = index
        self.backend = backend
        self._commands, self._inbox = anyio.create_memory_object_stream[Command](math.inf)
        self._acks_in, self._acks = anyio.create_memory_object_stream[str](math.inf)
        self.scopes: list[anyio.CancelScope] = []
        self._raised: BaseException | None = None

    # the scheduler's side

    def send(self, action: Action, scope: anyio.CancelScope | None = None) -> None:
        self._commands.send_nowait((action, scope))

    def stop(self) -> None:
        self._commands.close()

    async def acknowledgement(self) -> str:
        return await self._acks.receive()

    # the task's side

    async def run(self) -> None:
        with self._inbox, self._acks_in:
            while True:
                try:
                    command, scope = await self._inbox.receive()
                except anyio.EndOfStream:
                    assert not self.scopes
                    return
                assert isinstance(command, Enter | Interrupt), command
                try:
                    outcome = await self._block(command.value, scope)
                except TaskFailure as exc:
                    outcome = ABORTED_BY_EXCEPTION if exc is self._raised else f"got {exc!r}"
                self._acks_in.send_nowait(outcome)

    async def _block(self, value: bool, interrupt: anyio.CancelScope | None = None) -> str:
        override = (
            maintenance_mode_on(backend=self.backend)
            if value
            else maintenance_mode_off(backend=self.backend)
        )
        scope = interrupt or anyio.CancelScope()
        self.scopes.append(scope)
        outcome = LEFT
        entered = False
        try:
            with scope:
                try:
                    async with override:
                        entered = True
                        if interrupt is None:
                            self._acks_in.send_nowait(ENTERED)
                        outcome = await self._inside()
                except BlockFailure as exc:
                    outcome = LEFT_BY_EXCEPTION if exc is self._raised else f"got {exc!r}"
        finally:
            self.scopes.pop()
        if interrupt is not None:
            event(f"interrupted {'after' if entered else 'before'} the block was entered")
        if scope.cancelled_caught:
            outcome = CANCELLED
        return outcome

    async def _inside(self) -> str:
        while True:
            command, scope = await self._inbox.receive()
            if isinstance(command, Enter | Interrupt):
                self._acks_in.send_nowait(await self._block(command.value, scope))
            elif isinstance(command, Leave) and command.how is Exit.RETURN:
                return LEFT
            elif isinstance(command, Leave):
                self._raised = BlockFailure(self.index)
                raise self._raised
            else:
                self._raised = TaskFailure(self.index)
                raise self._raised


# --- running a schedule on a backend -------------------------------------------------------


class Kind(enum.Enum):
    MEMORY = "memory"
    FILE = "file"
    ENV = "env"


@dataclass
class Setup:
    backend: BaseStateBackend
    writable: bool
    initial: bool
    stored_views: list[Callable[[], Awaitable[bool]]]  # what the backend holds, seen from...


class WarningRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == level]


@contextmanager
def recording(name: str) -> Iterator[WarningRecorder]:
    recorder = WarningRecorder()
    logger = logging.getLogger(name)
    logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)


@contextmanager
def backend_for(kind: Kind, initial: tuple[str, bool] | None, directory: Path) -> Iterator[Setup]:
    """A fresh backend of *kind*; *initial* is a stored spelling and its state, or
    ``None`` for nothing stored (off)."""
    start = initial[1] if initial is not None else False
    backend: BaseStateBackend
    if kind is Kind.MEMORY:
        backend = MemoryBackend(start)
        yield Setup(backend, True, start, [backend.get_value])
    elif kind is Kind.FILE:
        path = directory / "state.txt"
        if initial is not None:
            path.write_text(initial[0], encoding="utf-8")
        backend = LocalFileBackend(path, check_interval=0)

        async def another_process() -> bool:
            return await LocalFileBackend(path, check_interval=0).get_value()

        yield Setup(backend, True, start, [backend.get_value, another_process])
        leftovers = sorted(os.listdir(directory))
        assert leftovers in ([], ["state.txt"]), leftovers
    else:
        with pytest.MonkeyPatch.context() as mp:
            if initial is None:
                mp.delenv(ENV_VAR, raising=False)
            else:
                mp.setenv(ENV_VAR, initial[0])
            backend = EnvVarBackend(ENV_VAR)
            yield Setup(backend, False, start, [backend.get_value])


async def check(setup: Setup, model: OverrideModel, when: str) -> None:
    reported = await get_maintenance_mode(backend=setup.backend)
    assert reported is model.reported, f"get_maintenance_mode() {when}; held={model.held}"
    for view in setup.stored_views:
        stored = await view()
        assert stored is model.stored, f"stored value ({view.__name__}) {when}; {model}"


async def perform(action: Action, workers: list[Worker], backend: BaseStateBackend) -> None:
    if isinstance(action, Write):
        await set_maintenance_mode(action.value, backend=backend)
        return
    worker = workers[action.task]
    if isinstance(action, Leave) and action.how is Exit.CANCEL:
        worker.scopes[-1].cancel()  # the innermost block
    elif isinstance(action, Abort) and action.how is Exit.CANCEL:
        worker.scopes[0].cancel()  # around every block of the task
    elif isinstance(action, Interrupt):
        scope = anyio.CancelScope()
        worker.send(action, scope)
        for _ in range(action.delay):
            await anyio.lowlevel.checkpoint()
        scope.cancel()
    else:
        worker.send(action)
    outcome = await worker.acknowledgement()
    assert outcome == expected_outcome(action), action


async def play(schedule: Schedule, setup: Setup, model: OverrideModel) -> None:
    workers = [Worker(index, setup.backend) for index in range(schedule.tasks)]
    with anyio.fail_after(GUARD_SECONDS):
        async with anyio.create_task_group() as tg:
            for worker in workers:
                tg.start_soon(worker.run)
            await check(setup, model, "before the first step")
            for number, batch in enumerate(schedule.batches):
                async with anyio.create_task_group() as steps:
                    for action in batch:
                        steps.start_soon(perform, action, workers, setup.backend)
                for action in batch:
                    model.apply(action)
                await check(setup, model, f"after step {number} {batch}")
            for worker in workers:
                worker.stop()


def run(function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """``anyio.run``, raising a lone failure from inside task groups as itself, so a
    falsifying example reports the assertion rather than an exception group."""
    try:
        return anyio.run(function, *args)
    except BaseException as error:
        leaves: list[BaseException] = []
        pending: list[BaseException] = [error]
        while pending:
            current = pending.pop()
            inner = getattr(current, "exceptions", None)  # an exception group
            if isinstance(inner, tuple):
                pending.extend(inner)
            else:
                leaves.append(current)
        if len(leaves) == 1 and leaves[0] is not error:
            raise leaves[0] from None
        raise


@pytest.mark.parametrize("kind", list(Kind), ids=lambda kind: kind.value)
@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(schedule=schedules, initial=st.none() | spelled_states())
def test_random_schedules_of_overrides_follow_the_model(
    kind: Kind,
    schedule: Schedule,
    initial: tuple[str, bool] | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    describe(schedule)
    note(f"{schedule.tasks} task(s), steps:")
    for number, batch in enumerate(schedule.batches):
        note(f"  {number}: {', '.join(map(str, batch))}")
    directory = tmp_path_factory.mktemp("overrides")
    with backend_for(kind, initial, directory) as setup, recording("fastapi_maintenance") as log:
        model = OverrideModel(setup.initial, setup.writable)
        run(play, schedule, setup, model)

        # Every block has left: the baseline as modified by the writes is back.
        assert model.held == []
        assert anyio.run(partial(get_maintenance_mode, backend=setup.backend)) is model.state
        for view in setup.stored_views:
            assert anyio.run(view) is model.stored is model.state

        assert log.at(logging.ERROR) == []
        warnings = log.at(logging.WARNING)
        if setup.writable:
            assert warnings == []
        else:
            # Each write to the read-only backend is refused with a warning.
            assert len(warnings) == model.writes
            assert all(ENV_VAR in record.getMessage() for record in warnings)
