"""Helpers for the fleet tests: several real uvicorn instances of ``apps/fleet.py``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from tests.support.servers import uvicorn_server

APP = "tests.drain.apps.fleet:app"
KEY = "drain:mm"
HEARTBEAT = 0.5  # seconds; an instance drops out 1.5 s after its last heartbeat


@dataclass(frozen=True)
class Instance:
    url: str
    pid: int
    id: str


@contextlib.contextmanager
def fleet(count: int, redis_url: str, logs: Path) -> Iterator[list[str]]:
    """Start *count* uvicorn processes of the fleet app, in parallel; yield their URLs."""
    env = {"REDIS_URL": redis_url, "KEY": KEY, "HEARTBEAT": str(HEARTBEAT)}
    servers = [
        uvicorn_server(APP, env=env, log_path=logs / f"instance-{n}.log") for n in range(count)
    ]
    with ThreadPoolExecutor(count) as pool, contextlib.ExitStack() as stack:
        starting = [pool.submit(server.__enter__) for server in servers]
        urls: list[str] = []
        problems: list[BaseException] = []
        for server, future in zip(servers, starting, strict=True):
            try:
                urls.append(future.result())
            except BaseException as exc:
                problems.append(exc)
            else:
                stack.push(server.__exit__)
        if problems:
            raise problems[0]
        yield urls


async def whoami(http: httpx.AsyncClient, url: str) -> Instance:
    """Ask an instance who it is; the first request also makes it join the fleet."""
    answer = (await http.get(f"{url}/whoami")).json()
    return Instance(url, int(answer["pid"]), str(answer["instance"]))


async def inside(raw: aioredis.Redis, name: str, within: float = 10.0) -> None:
    """Wait until the slow request *name* is inside its handler (a blocking pop: no polling)."""
    popped = await raw.blpop([f"{KEY}:entered"], timeout=within)
    assert popped is not None, f"the request {name!r} did not reach its handler in {within}s"
    assert popped[1].decode() == name, popped


async def release(raw: aioredis.Redis, name: str) -> None:
    """Let the slow request *name* finish."""
    await raw.rpush(f"{KEY}:release:{name}", "go")
