"""A state change written to Redis reaches every uvicorn instance on it.

Two instances of the load app on one real ``redis-server``; the state is flipped
(on, off, on, ...) ``FLIPS`` times with ``RedisBackend.set_value()``, at random
intervals of 20 to 200 ms. After each write, both instances are polled
concurrently (one keep-alive connection each) until each answers accordingly:
``503`` after on, ``200`` after off. Every instance must follow every flip, and
neither may log a problem.

The delay from just before the write to each instance's first matching answer
is printed (p50, p95 nearest rank, max) for benchmarks/results.md; it is not
asserted: timing stays out of the test suite.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from pathlib import Path

import anyio
import httpx
import pytest
from maintenance_core.backends.redis import RedisBackend

from tests.load.helpers import APP, redis_store, server_log_args, server_problems
from tests.support.servers import uvicorn_server

pytestmark = [pytest.mark.load, pytest.mark.anyio, pytest.mark.timeout(120)]

FLIPS = 40
FOLLOW_TIMEOUT = 10.0  # seconds an instance may take to follow one flip before it fails
KEY = "load:propagation"


async def first_match(client: httpx.AsyncClient, status: int, since: float) -> float | None:
    """Seconds from *since* to the first answer with *status*; ``None`` after the timeout."""
    while True:
        answer = await client.get("/fast?i=0")
        elapsed = time.perf_counter() - since
        if answer.status_code == status:
            return elapsed
        assert answer.status_code in (200, 503), f"unexpected answer {answer.status_code}"
        if elapsed > FOLLOW_TIMEOUT:
            return None


async def follow(
    clients: dict[str, httpx.AsyncClient], status: int, since: float
) -> dict[str, float | None]:
    """Poll every instance concurrently until each answers *status* (or times out)."""
    results: dict[str, float | None] = {}

    async def poll(name: str) -> None:
        results[name] = await first_match(clients[name], status, since)

    async with anyio.create_task_group() as group:
        for name in clients:
            group.start_soon(poll, name)
    return results


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(delays: list[float]) -> str:
    return (
        f"p50 {statistics.median(delays):.1f} ms, p95 {nearest_rank(delays, 0.95):.1f} ms, "
        f"max {max(delays):.1f} ms"
    )


async def test_every_instance_follows_every_flip(redis_url: str, tmp_path: Path) -> None:
    store = redis_store(redis_url, KEY)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    log_args_a, log_a = server_log_args(tmp_path / "a")
    log_args_b, log_b = server_log_args(tmp_path / "b")
    backend = RedisBackend(redis_url, key=KEY)
    rng = random.Random(14)
    delays: dict[str, list[float]] = {"A": [], "B": []}
    missed: dict[str, int] = {"A": 0, "B": 0}
    with (
        uvicorn_server(APP, env=store.app_env, args=log_args_a) as url_a,
        uvicorn_server(APP, env=store.app_env, args=log_args_b) as url_b,
    ):
        async with (
            httpx.AsyncClient(base_url=url_a) as client_a,
            httpx.AsyncClient(base_url=url_b) as client_b,
        ):
            clients = {"A": client_a, "B": client_b}
            try:
                await backend.set_value(False)
                for client in clients.values():
                    assert await first_match(client, 200, time.perf_counter()) is not None
                state = False
                for _ in range(FLIPS):
                    await anyio.sleep(rng.uniform(0.02, 0.2))  # no rhythm a cache could match
                    state = not state
                    started = time.perf_counter()
                    await backend.set_value(state)
                    results = await follow(clients, 503 if state else 200, started)
                    for name, delay in results.items():
                        if delay is None:
                            missed[name] += 1
                        else:
                            delays[name].append(delay * 1000)
                await backend.set_value(False)
            finally:
                await backend.aclose()
    problems = server_problems(log_a) + server_problems(log_b)

    every = delays["A"] + delays["B"]
    report = (
        f"redis propagation, {FLIPS} flips, 2 instances: {summary(every) if every else '-'}"
        f" (instance A: {summary(delays['A']) if delays['A'] else '-'};"
        f" instance B: {summary(delays['B']) if delays['B'] else '-'});"
        f" not followed within {FOLLOW_TIMEOUT:.0f} s: {missed}; server log problems: {problems}"
    )
    print("\n" + report)
    assert missed == {"A": 0, "B": 0}, report
    assert len(delays["A"]) == len(delays["B"]) == FLIPS, report
    assert problems == [], report
