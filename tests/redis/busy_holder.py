"""A process that holds a maintenance lease on Redis while its event loop is busy.

Run as ``python -m tests.redis.busy_holder URL LEASE_TTL STEP STOP_FILE`` from the
repository root. It reads the state once, enters
``maintenance_mode_on(backend=RedisBackend(URL, lease_ttl=LEASE_TTL))``, prints
``held``, then blocks its event loop in steps of STEP seconds (``time.sleep``,
as a CPU-bound or blocking-call handler would) with a bare yield between two
steps, until STOP_FILE exists. The lease's renewal task therefore runs late, but
runs. It then leaves the block and prints one JSON line: how many blocking steps
it made and how late a 10 ms timer ran at most (evidence that the loop really
was busy).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from fastapi_maintenance import get_maintenance_mode, maintenance_mode_on
from maintenance_core.backends.redis import RedisBackend

TICK = 0.01  # seconds: the timer whose lateness measures how busy the loop is


async def _measure_lag(worst: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(TICK)
        worst[0] = max(worst[0], loop.time() - start - TICK)


async def main(url: str, lease_ttl: float, step: float, stop_file: Path) -> None:
    backend = RedisBackend(url=url, lease_ttl=lease_ttl)
    worst_lag = [0.0]
    steps = 0
    lag = asyncio.get_running_loop().create_task(_measure_lag(worst_lag))
    try:
        # Read the state first, as an app that serves requests has: the backend's sync
        # task then has its own connection, and the lease is taken and renewed on a
        # connection already open. (A first renewal that must open one under this load
        # waits about twenty blocked steps for redis-py's connection handshake.)
        await get_maintenance_mode(backend)
        async with maintenance_mode_on(backend=backend):
            print("held", flush=True)
            # Blocking on purpose: the whole event loop waits, the renewal task included.
            while not stop_file.exists():  # noqa: ASYNC240
                time.sleep(step)  # noqa: ASYNC251
                steps += 1
                await asyncio.sleep(0)  # let the other tasks run, late
    finally:
        lag.cancel()
        await backend.aclose()
    print(json.dumps({"steps": steps, "worst_lag": worst_lag[0]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])))
