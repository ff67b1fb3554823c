"""One instance of a fleet served by uvicorn in the drain tests.

Configured by environment variables: ``REDIS_URL``, ``KEY`` (the state key) and
``HEARTBEAT`` (seconds between heartbeats).

``POST /write/{name}`` is a slow request: inside its handler it pushes *name* to
the Redis list ``<KEY>:entered`` and waits, without polling, until a value is
pushed to ``<KEY>:release:<name>``. ``GET /whoami`` (reachable during
maintenance) says which process and instance this is. ``POST /migrate`` holds
``maintenance_mode_on(drain=...)`` until ``<KEY>:release:migration``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    maintenance_mode_on,
)
from fastapi_maintenance.backends import RedisBackend
from maintenance_core.drain import DrainTimeoutError, inflight_of

REDIS_URL = os.environ["REDIS_URL"]
KEY = os.environ["KEY"]

backend = RedisBackend(
    url=REDIS_URL,
    key=KEY,
    heartbeat_interval=float(os.environ.get("HEARTBEAT", "0.5")),
    lease_ttl=5,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await backend.aclose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(MaintenanceModeMiddleware, backend=backend)


async def wait_for_release(name: str) -> bool:
    # A blocking pop waits for the test without polling; no socket timeout cuts it short.
    client = aioredis.Redis.from_url(REDIS_URL, socket_timeout=None)
    try:
        await client.rpush(f"{KEY}:entered", name)
        return await client.blpop([f"{KEY}:release:{name}"], timeout=30) is not None
    finally:
        await client.aclose()


@app.post("/write/{name}")
async def write(name: str) -> dict[str, object]:
    return {"name": name, "released": await wait_for_release(name)}


@app.get("/items")
async def items() -> list[str]:
    return ["a", "b"]


@app.get("/whoami")
@force_maintenance_mode_off
async def whoami() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "instance": backend.instance_id,
        "running": inflight_of(backend).running,
    }


@app.post("/migrate")
@force_maintenance_mode_off
async def migrate(drain: float) -> dict[str, object]:
    try:
        async with maintenance_mode_on(drain=drain) as held:
            result = held.drain_result
            assert result is not None
            await wait_for_release("migration")
    except DrainTimeoutError as exc:
        return {"drained": False, "summary": exc.result.summary()}
    return {"drained": result.drained, "instances": len(result.instances)}
