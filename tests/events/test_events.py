"""State-change and problem events of the memory, file and environment backends, and of
the state reader; listeners sync or async, a failing one logged and harmless."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import fastapi_maintenance
import pytest
from maintenance_core import (
    EnvVarBackend,
    GenericAdapter,
    InvalidStateValueError,
    LocalFileBackend,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MemoryBackend,
)
from maintenance_core.events import (
    BackendProblem,
    StateChange,
    announce_change,
    on_backend_problem,
    on_state_change,
)
from maintenance_core.state import OFF, ON, MaintenanceState

from tests.support.waiting import eventually
from tests.windows._helpers import client

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def guarded(backend: Any, **options: Any) -> MaintenanceMiddleware:
    return MaintenanceMiddleware(
        ok, MaintenanceGuard(adapter=GenericAdapter(), backend=backend, **options)
    )


# --- memory: local writes --------------------------------------------------------------------


async def test_a_write_announces_old_and_new_state() -> None:
    backend = MemoryBackend()
    seen = Recorder()
    on_state_change(backend, seen)

    await backend.set_state(ON)
    await backend.set_state(ON)  # the same state again: no change
    windowed = MaintenanceState.scheduled(end="2999-01-01T00:00Z")
    await backend.set_state(windowed)

    assert seen.events == [
        StateChange(OFF, ON, "local", "memory"),
        StateChange(ON, windowed, "local", "memory"),
    ]
    assert seen.events[0].switched
    assert not seen.events[1].switched  # a window added to an "on": the switch did not move


async def test_unsubscribe_stops_the_calls_and_is_idempotent() -> None:
    backend = MemoryBackend()
    kept, dropped = Recorder(), Recorder()
    on_state_change(backend, kept)
    unsubscribe = on_state_change(backend, dropped)
    await backend.set_state(ON)
    unsubscribe()
    unsubscribe()
    await backend.set_state(OFF)
    assert [e.new for e in kept.events] == [ON, OFF]
    assert [e.new for e in dropped.events] == [ON]


async def test_an_async_listener_runs_in_its_own_task() -> None:
    backend = MemoryBackend()
    done = anyio.Event()
    got: list[StateChange] = []

    async def listener(change: StateChange) -> None:
        await anyio.lowlevel.checkpoint()
        got.append(change)
        done.set()

    on_state_change(backend, listener)
    await backend.set_state(ON)
    assert got == []  # the write did not wait for the listener
    with anyio.fail_after(5):
        await done.wait()
    assert got == [StateChange(OFF, ON, "local", "memory")]


async def test_a_failing_listener_is_logged_and_breaks_neither_the_write_nor_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = MemoryBackend()
    after = Recorder()
    async_failed = anyio.Event()

    def broken(change: StateChange) -> None:
        raise RuntimeError("webhook down")

    async def broken_async(change: StateChange) -> None:
        async_failed.set()
        raise ValueError("async webhook down")

    on_state_change(backend, broken)
    on_state_change(backend, broken_async)
    on_state_change(backend, after)
    with caplog.at_level(logging.ERROR):
        await backend.set_state(ON)
        with anyio.fail_after(5):
            await async_failed.wait()

        async def logged() -> int:
            return len(caplog.records)

        await eventually(logged, lambda n: n >= 2)
    assert await backend.get_state() == ON
    assert [e.new for e in after.events] == [ON]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("broken" in m and "raised" in m for m in messages), messages
    assert any("broken_async" in m for m in messages), messages
    failures = {str(r.exc_info[1]) for r in caplog.records if r.exc_info}
    assert failures == {"webhook down", "async webhook down"}


async def test_a_failing_listener_never_breaks_a_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("0", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)

    def broken(change: StateChange) -> None:
        raise RuntimeError("boom")

    on_state_change(backend, broken)
    async with client(guarded(backend)) as c:
        assert (await c.get("/")).status_code == 200
        path.write_text("1", encoding="utf-8")
        with caplog.at_level(logging.ERROR):
            assert (await c.get("/")).status_code == 503  # the change seen by this request
    assert any("boom" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_a_listener_must_be_callable() -> None:
    with pytest.raises(TypeError, match="A listener must be a function"):
        on_state_change(MemoryBackend(), "https://chat.example/hook")  # type: ignore[arg-type]


async def test_announce_change_is_for_custom_backends_and_skips_non_changes() -> None:
    backend = MemoryBackend()
    seen = Recorder()
    on_state_change(backend, seen)
    announce_change(backend, ON, ON, "fleet")
    announce_change(backend, ON, OFF, "fleet")
    assert seen.events == [StateChange(ON, OFF, "fleet", "memory")]


# --- the file: a change by another process is seen as the fleet's ----------------------------


async def test_the_file_backend_announces_another_process_change_as_fleet(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("0", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    seen = Recorder()
    on_state_change(backend, seen)

    assert await backend.get_state() == OFF  # the first read learns the state: no event
    assert seen.events == []

    # Another process writes the file: the real command line, in a subprocess.
    await anyio.run_process(
        [sys.executable, "-m", "fastapi_maintenance", "on", "--backend", "file",
         "--file-path", str(path), "--retry", "300"],
    )  # fmt: skip
    assert await backend.get_state() == MaintenanceState(True, retry_after=300)
    assert await backend.get_state() == MaintenanceState(True, retry_after=300)  # no new change
    await backend.set_state(OFF)

    assert seen.events == [
        StateChange(OFF, MaintenanceState(True, retry_after=300), "fleet", f"file: {path}"),
        StateChange(MaintenanceState(True, retry_after=300), OFF, "local", f"file: {path}"),
    ]


async def test_the_file_backend_announces_a_change_made_across_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("0", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    seen = Recorder()
    on_state_change(backend, seen)
    await backend.get_state()
    path.write_text("garbage", encoding="utf-8")
    with pytest.raises(InvalidStateValueError):
        await backend.get_state()
    path.write_text("1", encoding="utf-8")
    assert await backend.get_state() == ON
    assert [(e.old, e.new, e.source) for e in seen.events] == [(OFF, ON, "fleet")]


async def test_a_file_write_before_any_read_has_no_old_state(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    seen = Recorder()
    on_state_change(backend, seen)
    await backend.set_state(ON)
    assert [(e.old, e.new, e.source) for e in seen.events] == [(None, ON, "local")]
    assert seen.events[0].switched


async def test_overrides_written_to_the_file_are_announced(tmp_path: Path) -> None:
    backend = LocalFileBackend(tmp_path / "state.txt")
    await backend.set_state(OFF)
    seen = Recorder()
    on_state_change(backend, seen)
    async with fastapi_maintenance.maintenance_mode_on(backend):
        pass
    assert [(e.old, e.new) for e in seen.events] == [(OFF, ON), (ON, OFF)]


# --- the environment variable ------------------------------------------------------------------


async def test_the_env_backend_announces_a_new_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_MODE", "0")
    backend = EnvVarBackend("EVENTS_MODE")
    seen = Recorder()
    on_state_change(backend, seen)
    assert await backend.get_state() == OFF
    assert seen.events == []
    monkeypatch.setenv("EVENTS_MODE", "true")
    assert await backend.get_state() == ON
    monkeypatch.setenv("EVENTS_MODE", "yes")  # another word, the same state: no change
    assert await backend.get_state() == ON
    assert seen.events == [StateChange(OFF, ON, "local", "env: EVENTS_MODE")]


async def test_an_unrecognised_env_value_is_a_problem_once_per_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTS_MODE", "maybe")
    backend = EnvVarBackend("EVENTS_MODE")
    problems = Recorder()
    on_backend_problem(backend, problems)
    for _ in range(3):
        assert await backend.get_state() == OFF
    monkeypatch.setenv("EVENTS_MODE", "perhaps")
    await backend.get_state()
    assert [type(p.error).__name__ for p in problems.events] == ["InvalidStateValueError"] * 2
    assert all("maybe" not in str(p.error) for p in problems.events)


# --- the reader: a backend that raises is a problem once per fault ---------------------------


async def test_a_read_fault_is_one_problem_however_many_requests(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    problems = Recorder()
    on_backend_problem(backend, problems)
    async with client(guarded(backend)) as c:
        assert (await c.get("/")).status_code == 503
        path.write_text("not a state", encoding="utf-8")
        for _ in range(5):
            assert (await c.get("/")).status_code == 503  # the last known state
        assert len(problems.events) == 1
        path.write_text("1", encoding="utf-8")
        assert (await c.get("/")).status_code == 503
        path.write_bytes(b"\xff\xfe")
        for _ in range(3):
            await c.get("/")
    assert [type(p.error).__name__ for p in problems.events] == ["InvalidStateValueError"] * 2
    assert all(isinstance(p, BackendProblem) for p in problems.events)
    assert problems.events[0].backend == f"file: {path}"


async def test_nothing_is_announced_per_request(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    changes, problems = Recorder(), Recorder()
    on_state_change(backend, changes)
    on_backend_problem(backend, problems)
    async with client(guarded(backend)) as c:
        for _ in range(20):
            assert (await c.get("/")).status_code == 503
    assert changes.events == problems.events == []
