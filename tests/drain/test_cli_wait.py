"""``fastapi-maintenance on --wait`` and ``status`` against a real fleet: uvicorn
instances on one real redis-server, the command in another process acting on the
fleet app's own backend (``--app``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import httpx
import pytest
import redis.asyncio as aioredis
from maintenance_core.backends.redis import RedisBackend

from tests.redis.helpers import eventually
from tests.support.servers import ROOT

from .fleet import APP, HEARTBEAT, KEY, fleet, inside, release
from .test_fleet import join

pytestmark = pytest.mark.anyio

COMMAND = str(Path(sys.executable).parent / "fastapi-maintenance")


async def cli(redis_url: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "REDIS_URL": redis_url, "KEY": KEY, "HEARTBEAT": str(HEARTBEAT)}
    done = await anyio.run_process([COMMAND, "--app", APP, *args], cwd=ROOT, env=env, check=False)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_on_wait_returns_once_the_slow_request_has_finished(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    with fleet(2, redis_url, tmp_path) as urls, anyio.fail_after(60):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            _idle, writer = await join(http, control, urls)
            outcome: list[tuple[int, str, str]] = []
            answers: list[httpx.Response] = []

            async def write() -> None:
                answers.append(await http.post(f"{writer.url}/write/w"))

            async def switch_on() -> None:
                outcome.append(await cli(redis_url, "on", "--wait", "30"))

            async with anyio.create_task_group() as tg:
                tg.start_soon(write)
                await inside(raw, "w")
                tg.start_soon(switch_on)

                async def stored_on() -> bool:
                    return (await control.read_state_now()).on

                await eventually(stored_on, within=20, what="the command switched on")
                # The writer's request is still running: the command is still waiting.
                status = await cli(redis_url, "status", "--json")
                assert status[0] == 0, status[2]
                assert json.loads(status[1])["maintenance"] is True
                assert outcome == []
                await release(raw, "w")
    [(code, out, err)] = outcome
    assert code == 0, err
    assert "Maintenance mode is ON" in out
    assert "Drained:" in out
    [answer] = answers
    assert answer.status_code == 200  # admitted before the switch, it finished


async def test_on_wait_times_out_naming_the_straggler_and_status_lists_instances(
    redis_url: str, raw: aioredis.Redis, tmp_path: Path
) -> None:
    with fleet(2, redis_url, tmp_path) as urls, anyio.fail_after(60):
        async with (
            httpx.AsyncClient(timeout=30) as http,
            RedisBackend(redis_url, key=KEY) as control,
        ):
            idle, writer = await join(http, control, urls)
            async with anyio.create_task_group() as tg:

                async def write() -> None:
                    await http.post(f"{writer.url}/write/long")

                tg.start_soon(write)
                await inside(raw, "long")
                code, out, err = await cli(redis_url, "on", "--wait", "1")
                assert code == 1, (out, err)
                [line] = err.splitlines()
                assert line.startswith("Error: Not drained within 1s")
                assert f"{writer.id} (1 request running)" in line
                assert idle.id not in line

                code, out, err = await cli(redis_url, "status", "--json")
                assert code == 0, err
                listed = {i["instance"]: i for i in json.loads(out)["instances"]}
                assert set(listed) == {idle.id, writer.id}
                assert listed[writer.id]["running"] == 1
                assert listed[writer.id]["on"] is True
                code, out, err = await cli(redis_url, "status")
                assert "Instances: 2 live" in out
                await release(raw, "long")


async def test_on_wait_needs_a_fleet(tmp_path: Path) -> None:
    done = await anyio.run_process(
        [COMMAND, "on", "--backend", "file", "--file-path", str(tmp_path / "s"), "--wait"],
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1
    [line] = done.stderr.decode().splitlines()
    assert line.startswith("Error: --wait needs the redis backend")
    assert not (tmp_path / "s").exists()  # refused before anything was written
