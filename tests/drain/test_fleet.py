"""Drain across a fleet: several real uvicorn processes on one real redis-server.

Each instance acknowledges a change once the requests it admitted before have
finished; waiting for the fleet returns when every live instance has, names the
stragglers on timeout, and forgets an instance killed with ``kill -9`` once its
heartbeat expires. Slow requests wait on Redis lists the test pushes to; the test
waits on events and deadlines, never on sleeps.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import anyio
import httpx
import pytest
import redis.asyncio as aioredis
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.drain import DrainResult, InstanceStatus, list_instances, wait_drained
from maintenance_core.state import ON

from tests.redis.helpers import eventually, stays

from .fleet import HEARTBEAT, KEY, Instance, fleet, inside, release, whoami

pytestmark = pytest.mark.anyio

TTL = 3 * HEARTBEAT


async def join(http: httpx.AsyncClient, control: RedisBackend, urls: list[str]) -> list[Instance]:
    """Make every instance join the fleet; return them once all are listed, serving off."""
    instances = [await whoami(http, url) for url in urls]
    ids = sorted(instance.id for instance in instances)

    async def listed() -> bool:
        statuses = await list_instances(control)
        return [s.instance for s in statuses] == ids and not any(s.on for s in statuses)

    await eventually(listed, within=10, what=f"instances {ids} listed")
    return instances


async def statuses_by_id(control: RedisBackend) -> dict[str, InstanceStatus]:
    return {status.instance: status for status in await list_instances(control)}


async def test_waiting_for_the_fleet_returns_once_every_instance_has_drained(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    with fleet(3, redis_url, tmp_path) as urls, anyio.fail_after(45):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            instances = await join(http, control, urls)
            idle_a, writer, idle_b = instances
            answers: list[httpx.Response] = []
            results: list[DrainResult] = []
            done = anyio.Event()

            async def write() -> None:
                answers.append(await http.post(f"{writer.url}/write/w"))

            async def wait_for_fleet() -> None:
                results.append(await wait_drained(control, 30))
                done.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(write)
                await inside(raw, "w")
                await control.set_state(ON)  # what `on` stores
                tg.start_soon(wait_for_fleet)

                # The idle instances acknowledge, drained; the writer's, not drained.
                async def acknowledged() -> bool:
                    seen = await statuses_by_id(control)
                    return (
                        all(seen[i.id].on and seen[i.id].drained for i in (idle_a, idle_b))
                        and seen[writer.id].on
                        and not seen[writer.id].drained
                        and seen[writer.id].running == 1
                    )

                await eventually(acknowledged, within=10, what="the change acknowledged")
                # New requests are refused everywhere while the writer still writes...
                for instance in instances:
                    assert (await http.get(f"{instance.url}/items")).status_code == 503
                # ...and the wait goes on.
                await stays(lambda: not done.is_set(), 2 * TTL, "the fleet is not drained yet")
                await release(raw, "w")
                await done.wait()

    [result] = results
    assert (result.drained, result.still_running, result.stragglers) == (True, 0, ())
    assert sorted(s.instance for s in result.instances) == sorted(i.id for i in instances)
    assert all(s.on and s.drained and s.running == 0 for s in result.instances)
    # The request admitted before the switch ran to its end.
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"name": "w", "released": True}


async def test_an_instance_killed_mid_drain_drops_out_when_its_heartbeat_expires(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    with fleet(3, redis_url, tmp_path) as urls, anyio.fail_after(45):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            instances = await join(http, control, urls)
            victim = instances[2]
            results: list[DrainResult] = []
            done = anyio.Event()

            async def write() -> None:
                with pytest.raises(httpx.TransportError):  # its process is killed
                    await http.post(f"{victim.url}/write/doomed")

            async def wait_for_fleet() -> None:
                results.append(await wait_drained(control, 30))
                done.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(write)
                await inside(raw, "doomed")
                await control.set_state(ON)
                tg.start_soon(wait_for_fleet)

                async def draining() -> bool:
                    seen = await statuses_by_id(control)
                    return seen[victim.id].on and not seen[victim.id].drained

                await eventually(draining, within=10, what="the victim is draining")
                assert not done.is_set()
                os.kill(victim.pid, signal.SIGKILL)
                killed_at = time.monotonic()
                await done.wait()
                took = time.monotonic() - killed_at

            # It dropped out once its heartbeat expired (at most TTL after its last one).
            assert took <= TTL + 1.0, f"took {took:.2f}s after the kill"
            [result] = results
            assert (result.drained, result.stragglers) == (True, ())
            survivors = sorted(i.id for i in instances[:2])
            assert [s.instance for s in result.instances] == survivors
            # What `status` lists: the two live instances, on.
            listed = await list_instances(control)
            assert [(s.instance, s.on, s.drained) for s in listed] == [
                (survivor, True, True) for survivor in survivors
            ]


async def test_a_slow_request_outliving_the_timeout_names_its_instance(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    with fleet(2, redis_url, tmp_path) as urls, anyio.fail_after(45):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            instances = await join(http, control, urls)
            idle, writer = instances
            answers: list[httpx.Response] = []

            async def write() -> None:
                answers.append(await http.post(f"{writer.url}/write/long"))

            async with anyio.create_task_group() as tg:
                tg.start_soon(write)
                await inside(raw, "long")
                await control.set_state(ON)
                started = time.monotonic()
                result = await wait_drained(control, 1.0)
                took = time.monotonic() - started

                assert 1.0 <= took < 1.0 + TTL + 1.0
                assert not result.drained
                assert [s.instance for s in result.stragglers] == [writer.id]
                assert result.still_running == 1
                assert result.timeout == 1.0
                assert f"{writer.id} (1 request running)" in result.summary()
                assert result.summary().startswith("1 request still running on 1 instance")
                assert idle.id not in result.summary()

                await release(raw, "long")
            # Once it finished, the fleet is drained.
            again = await wait_drained(control, 10)
            assert again.drained, again.summary()
    [answer] = answers
    assert answer.status_code == 200, answer.text


async def test_maintenance_mode_on_with_drain_waits_for_the_whole_fleet(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    """The migration endpoint pattern on Redis: a lease, then a drain of every instance
    (the instance running the endpoint does not wait for the endpoint's own request)."""
    with fleet(2, redis_url, tmp_path) as urls, anyio.fail_after(45):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            instances = await join(http, control, urls)
            migrator, writer = instances
            answers: dict[str, httpx.Response] = {}

            async def call(name: str, url: str) -> None:
                answers[name] = await http.post(url)

            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "write", f"{writer.url}/write/w")
                await inside(raw, "w")
                tg.start_soon(call, "migrate", f"{migrator.url}/migrate?drain=30")

                async def leased() -> bool:
                    seen = await statuses_by_id(control)
                    return seen[writer.id].on and not seen[writer.id].drained

                await eventually(leased, within=10, what="the writer sees the lease")

                # The migration must not start while the writer's request runs.
                async def migration_waits() -> bool:
                    return await raw.llen(f"{KEY}:entered") == 0

                await stays(migration_waits, 2 * TTL, "the migration waits for the writer")
                await release(raw, "w")
                await inside(raw, "migration")
                await release(raw, "migration")
    assert answers["write"].status_code == 200
    assert answers["migrate"].json() == {"drained": True, "instances": 2}
