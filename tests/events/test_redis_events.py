"""Fleet events through a real ``redis-server``: a change written by another process
reaches this one through pub/sub (or the resync), once, with its source."""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis
from maintenance_core.events import BackendProblem, StateChange, on_backend_problem, on_state_change
from maintenance_core.state import OFF, ON, MaintenanceState

from tests.redis.conftest import BackendFactory
from tests.support.redis_server import RedisServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

# Long enough that a change arriving within a test came through pub/sub, not the resync.
NO_RESYNC = 60.0


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    async def count(self) -> int:
        return len(self.events)

    async def wait_for(self, n: int) -> list[Any]:
        await eventually(self.count, lambda count: count >= n, timeout=5.0)
        return self.events


async def run_cli(*args: str) -> None:
    """The real command line, in another process."""
    with anyio.fail_after(60):
        await anyio.run_process([sys.executable, "-m", "fastapi_maintenance", *args])


async def test_a_change_by_another_process_arrives_through_pub_sub(
    redis_url: str, make_backend: BackendFactory
) -> None:
    backend = make_backend(redis_url, resync_interval=NO_RESYNC)
    seen = Recorder()
    on_state_change(backend, seen)
    assert await backend.get_state() == OFF  # starts the sync task; no event for it

    await run_cli("on", "--backend", "redis", "--redis-url", redis_url, "--retry", "600")
    events = await seen.wait_for(1)
    assert events == [
        StateChange(OFF, MaintenanceState(True, retry_after=600), "fleet", backend.describe())
    ]
    # Nobody asked this process: the state was pushed to it.
    assert await backend.get_state() == MaintenanceState(True, retry_after=600)

    await run_cli("off", "--backend", "redis", "--redis-url", redis_url)
    events = await seen.wait_for(2)
    assert [(e.old, e.new, e.source) for e in events[1:]] == [
        (MaintenanceState(True, retry_after=600), OFF, "fleet")
    ]


async def test_an_async_listener_hears_the_fleet(
    redis_url: str, make_backend: BackendFactory
) -> None:
    here = make_backend(redis_url, resync_interval=NO_RESYNC)
    there = make_backend(redis_url, resync_interval=NO_RESYNC)
    heard = anyio.Event()
    changes: list[StateChange] = []

    async def listener(change: StateChange) -> None:
        changes.append(change)
        heard.set()

    on_state_change(here, listener)
    await here.get_state()
    await there.set_state(ON)
    with anyio.fail_after(5):
        await heard.wait()
    assert [(c.old, c.new, c.source) for c in changes] == [(OFF, ON, "fleet")]


async def test_a_local_write_is_announced_once_not_again_by_its_own_message(
    redis_url: str, make_backend: BackendFactory
) -> None:
    here = make_backend(redis_url, resync_interval=NO_RESYNC)
    there = make_backend(redis_url, resync_interval=NO_RESYNC)
    seen = Recorder()
    on_state_change(here, seen)
    await here.get_state()
    await there.get_state()

    await here.set_state(ON)
    # The fleet's next change is published after the echo of ours: once it has arrived,
    # the echo has too, and must not have been announced.
    await there.set_state(OFF)
    events = await seen.wait_for(2)
    assert [(e.old, e.new, e.source) for e in events] == [(OFF, ON, "local"), (ON, OFF, "fleet")]


async def test_a_change_without_a_message_arrives_with_the_resync(
    redis_url: str, make_backend: BackendFactory, raw: aioredis.Redis
) -> None:
    backend = make_backend(redis_url, resync_interval=0.2)
    seen = Recorder()
    on_state_change(backend, seen)
    await backend.get_state()
    await raw.set("maintenance_mode", "1")  # written by hand: no PUBLISH
    events = await seen.wait_for(1)
    assert [(e.old, e.new, e.source) for e in events] == [(OFF, ON, "fleet")]


async def test_redis_going_away_is_one_problem(
    own_redis: RedisServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(own_redis.url, resync_interval=0.1, socket_timeout=0.2)
    problems = Recorder()
    on_backend_problem(backend, problems)
    changes = Recorder()
    on_state_change(backend, changes)
    await backend.get_state()
    own_redis.stop()
    events = await problems.wait_for(1)
    await anyio.sleep(0.5)  # several failed resyncs and reconnections: still one problem
    assert len(problems.events) == 1
    assert isinstance(events[0], BackendProblem)
    assert events[0].backend == backend.describe()
    assert changes.events == []  # an outage is not a change: the last state is served
