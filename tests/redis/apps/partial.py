"""One instance of a fleet under partial maintenance, served by uvicorn in the Redis tests.

Configured by environment variables: ``REDIS_URL`` and ``KEY`` (the state key).
``/pay`` belongs to the ``payments`` group through its OpenAPI tag; ``/items``
to no group. Both answer ``GET`` and ``POST``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import RedisBackend

backend = RedisBackend(url=os.environ["REDIS_URL"], key=os.environ["KEY"], resync_interval=30)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await backend.aclose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(MaintenanceModeMiddleware, backend=backend)


@app.get("/pay", tags=["payments"])
async def payments() -> list[str]:
    return ["paid"]


@app.post("/pay", tags=["payments"])
async def pay() -> dict[str, bool]:
    return {"paid": True}


@app.get("/items")
async def items() -> list[str]:
    return ["a", "b"]


@app.post("/items")
async def add_item() -> dict[str, bool]:
    return {"added": True}
