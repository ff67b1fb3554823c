"""One instance of a fleet served by uvicorn in the Redis tests.

Configured by environment variables: ``REDIS_URL``, ``KEY`` (the state key) and
``LEASE_TTL`` (seconds). ``POST /admin/hold`` is reachable during maintenance and
holds ``maintenance_mode_on()`` until a value is pushed to the Redis list
``<KEY>:release``.
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

REDIS_URL = os.environ["REDIS_URL"]
KEY = os.environ["KEY"]
RELEASE_KEY = f"{KEY}:release"

backend = RedisBackend(
    url=REDIS_URL, key=KEY, lease_ttl=float(os.environ.get("LEASE_TTL", "1")), resync_interval=30
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await backend.aclose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(MaintenanceModeMiddleware, backend=backend)


@app.get("/items")
async def items() -> list[str]:
    return ["a", "b"]


@app.post("/admin/hold")
@force_maintenance_mode_off
async def hold() -> dict[str, bool]:
    # A blocking pop waits for the release without polling; no socket timeout cuts it short.
    waiter = aioredis.Redis.from_url(REDIS_URL, socket_timeout=None)
    try:
        async with maintenance_mode_on():
            released = await waiter.blpop([RELEASE_KEY], timeout=30)
    finally:
        await waiter.aclose()
    return {"released": released is not None}
