"""Drain in one process: ``maintenance_mode_on(drain=...)`` returns once the requests
admitted before maintenance turned on have finished, on a FastAPI app.

Every wait is on an event the test controls or a deadline; nothing sleeps to
synchronise. Each test runs with the fast path (no route forced on: the guard
does not look the route up while maintenance is off) and the slow path (a route
forced on: every request is looked up).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import fastapi_maintenance
import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    maintenance_mode_on,
)
from maintenance_core import ConfigurationError, MemoryBackend
from maintenance_core.drain import (
    DrainTimeoutError,
    inflight_of,
    wait_drained,
)
from maintenance_core.overrides import MaintenanceOverride
from maintenance_core.state import MaintenanceState

pytestmark = pytest.mark.anyio


@dataclass
class Gates:
    """Per name: an event the handler sets when it is inside, one the test sets to let it go."""

    entered: dict[str, anyio.Event] = field(default_factory=dict)
    released: dict[str, anyio.Event] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)

    def inside(self, name: str) -> anyio.Event:
        return self.entered.setdefault(name, anyio.Event())

    def release(self, name: str) -> anyio.Event:
        return self.released.setdefault(name, anyio.Event())

    async def hold(self, name: str) -> None:
        self.inside(name).set()
        await self.release(name).wait()
        self.finished.append(name)


@dataclass
class Setup:
    backend: MemoryBackend
    gates: Gates
    http: httpx.AsyncClient


def build_app(backend: MemoryBackend, gates: Gates, *, forced_on_route: bool) -> FastAPI:
    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)

    @app.get("/slow/{name}")
    async def slow(name: str) -> dict[str, str]:
        await gates.hold(name)
        return {"name": name}

    @app.get("/fast")
    async def fast() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/off/{name}")
    @force_maintenance_mode_off
    async def slow_forced_off(name: str) -> dict[str, str]:
        await gates.hold(name)
        return {"name": name}

    @app.post("/migrate")
    @force_maintenance_mode_off
    async def migrate(drain: float = 5.0) -> dict[str, object]:
        # The migration endpoint pattern: the block starts once nobody else writes.
        async with maintenance_mode_on(drain=drain) as held:
            result = held.drain_result
            assert result is not None
            await gates.hold("migration")
        return {"drained": result.drained, "still_running": result.still_running}

    if forced_on_route:

        @app.get("/legacy")
        @force_maintenance_mode_on
        async def legacy() -> dict[str, bool]:
            return {"ok": True}

    return app


@pytest.fixture(params=["fast-path", "slow-path"])
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[Setup]:
    backend = MemoryBackend()
    gates = Gates()
    app = build_app(backend, gates, forced_on_route=request.param == "slow-path")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Setup(backend, gates, http)


async def test_switching_on_returns_once_the_request_admitted_before_has_finished(
    setup: Setup,
) -> None:
    answers: dict[str, httpx.Response] = {}
    entered_block = anyio.Event()

    async def get(name: str, path: str) -> None:
        answers[name] = await setup.http.get(path)

    async def switch_on() -> None:
        async with maintenance_mode_on(setup.backend, drain=10) as held:
            answers["drain"] = httpx.Response(200, json={"drained": held.drain_result.drained})  # type: ignore[union-attr]
            entered_block.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(get, "writer", "/slow/writer")
            await setup.gates.inside("writer").wait()
            assert inflight_of(setup.backend).running == 1
            tg.start_soon(switch_on)
            await anyio.wait_all_tasks_blocked()
            # Maintenance is on (new requests are refused) but the switch has not returned.
            assert not entered_block.is_set()
            assert (await setup.http.get("/fast")).status_code == 503
            await anyio.wait_all_tasks_blocked()
            assert not entered_block.is_set()
            setup.gates.release("writer").set()
            await entered_block.wait()
            # The writer finished before the block started.
            assert setup.gates.finished == ["writer"]
    assert answers["writer"].status_code == 200
    assert answers["writer"].json() == {"name": "writer"}
    assert answers["drain"].json() == {"drained": True}
    assert inflight_of(setup.backend).running == 0


async def test_on_timeout_it_raises_says_how_many_run_and_releases_maintenance(
    setup: Setup,
) -> None:
    answers: list[httpx.Response] = []

    async def writer() -> None:
        answers.append(await setup.http.get("/slow/writer"))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            await setup.gates.inside("writer").wait()
            with pytest.raises(DrainTimeoutError) as timed_out:
                async with maintenance_mode_on(setup.backend, drain=0.2):
                    pytest.fail("the block ran while a request was still writing")
            # The override was released: the app serves again.
            assert await fastapi_maintenance.get_maintenance_mode(setup.backend) is False
            assert (await setup.http.get("/fast")).status_code == 200
            setup.gates.release("writer").set()
    result = timed_out.value.result
    assert (result.drained, result.still_running, result.stragglers) == (False, 1, ())
    assert result.timeout == 0.2
    assert "1 request still running in this process" in str(timed_out.value)
    assert isinstance(timed_out.value, TimeoutError)
    # The slow request was never cut short.
    assert [answer.status_code for answer in answers] == [200]


async def test_a_drain_started_inside_a_request_does_not_wait_for_that_request(
    setup: Setup,
) -> None:
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            answers: list[httpx.Response] = []

            async def migrate() -> None:
                answers.append(await setup.http.post("/migrate", params={"drain": 5}))

            tg.start_soon(migrate)
            # Entered without waiting 5 s for itself (fails at the 10 s deadline otherwise).
            await setup.gates.inside("migration").wait()
            assert (await setup.http.get("/fast")).status_code == 503
            setup.gates.release("migration").set()
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"drained": True, "still_running": 0}


async def test_a_drain_started_inside_a_request_still_waits_for_the_others(
    setup: Setup,
) -> None:
    answers: dict[str, httpx.Response] = {}

    async def call(name: str, method: str, path: str) -> None:
        answers[name] = await setup.http.request(method, path)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "writer", "GET", "/slow/writer")
            await setup.gates.inside("writer").wait()
            tg.start_soon(call, "migrate", "POST", "/migrate?drain=5")
            await anyio.wait_all_tasks_blocked()
            assert not setup.gates.inside("migration").is_set()
            setup.gates.release("writer").set()
            await setup.gates.inside("migration").wait()
            assert setup.gates.finished == ["writer"]
            setup.gates.release("migration").set()
    assert answers["writer"].status_code == 200
    assert answers["migrate"].json() == {"drained": True, "still_running": 0}


async def test_a_drain_does_not_wait_for_requests_admitted_after_it_started(
    setup: Setup,
) -> None:
    # Maintenance stays off here, so requests keep being admitted while the drain waits.
    results = []
    drained = anyio.Event()

    async def drain() -> None:
        results.append(await wait_drained(setup.backend, 10))
        drained.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(setup.http.get, "/slow/early")
            await setup.gates.inside("early").wait()
            tg.start_soon(drain)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(setup.http.get, "/slow/late")
            await setup.gates.inside("late").wait()
            assert inflight_of(setup.backend).running == 2
            setup.gates.release("early").set()
            await drained.wait()  # although "late" still runs
            assert setup.gates.finished == ["early"]
            setup.gates.release("late").set()
    [result] = results
    assert (result.drained, result.still_running) == (True, 0)


async def test_a_request_deciding_while_maintenance_turns_on_is_decided_again() -> None:
    """A request that read "off" just before the switch, and was admitted after the
    drain had returned, would write during the block: it is decided again instead."""

    class SlowReadBackend(MemoryBackend):
        def __init__(self) -> None:
            super().__init__()
            self.hold_next_read: anyio.Event | None = None
            self.reading = anyio.Event()

        async def get_state(self) -> MaintenanceState:
            state = await super().get_state()  # read now, answered after the hold
            held, self.hold_next_read = self.hold_next_read, None
            if held is not None:
                self.reading.set()
                await held.wait()
            return state

    backend = SlowReadBackend()
    gates = Gates()
    app = build_app(backend, gates, forced_on_route=False)
    transport = httpx.ASGITransport(app=app)
    answers: list[httpx.Response] = []
    with anyio.fail_after(10):
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
            anyio.create_task_group() as tg,
        ):

            async def writer() -> None:
                answers.append(await http.get("/slow/writer"))

            release_read = backend.hold_next_read = anyio.Event()
            tg.start_soon(writer)
            await backend.reading.wait()  # it has read "off" and is not admitted yet
            async with maintenance_mode_on(backend, drain=5) as held:
                assert held.drain_result is not None
                assert held.drain_result.drained
                release_read.set()
                await anyio.wait_all_tasks_blocked()
                # Inside the block, nothing the drain did not wait for may run.
                assert not gates.inside("writer").is_set()
                assert answers
                assert answers[0].status_code == 503
    assert gates.finished == []


async def test_requests_maintenance_never_refuses_are_not_waited_for() -> None:
    """Admitted while maintenance is on, the route is known: a route forced off is
    not waited for. (Admitted while off, it is: docs/operating.md.)"""
    backend = MemoryBackend(True)
    gates = Gates()
    app = build_app(backend, gates, forced_on_route=True)
    transport = httpx.ASGITransport(app=app)
    with anyio.fail_after(10):
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(http.get, "/off/stream")
            await gates.inside("stream").wait()
            assert inflight_of(backend).running == 0
            async with maintenance_mode_on(backend, drain=5) as held:
                assert held.drain_result is not None
                assert held.drain_result.drained
                assert held.drain_result.waited < 1
            gates.release("stream").set()


@pytest.mark.parametrize("drain", [-1, math.nan, math.inf, "5", True])
def test_a_drain_that_is_not_a_number_of_seconds_is_refused(drain: object) -> None:
    with pytest.raises(ConfigurationError, match="drain"):
        maintenance_mode_on(MemoryBackend(), drain=drain)  # type: ignore[arg-type]


def test_drain_applies_to_on_overrides_only() -> None:
    backend = MemoryBackend()
    with pytest.raises(ConfigurationError, match="maintenance_mode_on"):
        MaintenanceOverride(False, backend, lambda: backend, drain=1)


async def test_drain_zero_checks_without_waiting() -> None:
    backend = MemoryBackend()
    async with maintenance_mode_on(backend, drain=0) as held:
        assert held.drain_result is not None
        assert held.drain_result.drained
    assert await fastapi_maintenance.get_maintenance_mode(backend) is False


@pytest.mark.parametrize("forced_on_route", [False, True])
async def test_a_request_guarded_twice_on_one_backend_is_counted_once(
    forced_on_route: bool,
) -> None:
    """A sub-app mounted in an app, both with the middleware on one backend: the
    migration endpoint's drain does not wait for its own request."""
    backend = MemoryBackend(False)
    sub = FastAPI()
    sub.add_middleware(MaintenanceModeMiddleware, backend=backend)
    seen_running: list[int] = []

    @sub.post("/migrate")
    @force_maintenance_mode_off
    async def migrate() -> dict[str, bool]:
        seen_running.append(inflight_of(backend).running)
        async with maintenance_mode_on(drain=2) as held:
            assert held.drain_result is not None
            return {"drained": held.drain_result.drained}

    if forced_on_route:

        @sub.get("/legacy")
        @force_maintenance_mode_on
        async def legacy() -> str:
            return "legacy"

    app = FastAPI()
    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    app.mount("/admin", sub)
    with anyio.fail_after(10):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            response = await http.post("/admin/migrate")
    assert response.json() == {"drained": True}
    assert seen_running == [1]
    assert inflight_of(backend).running == 0
