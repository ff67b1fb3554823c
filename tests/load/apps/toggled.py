"""The app under load: FastAPI behind the maintenance middleware, on a file or a Redis backend.

Configured by environment variables:

- ``LOAD_BACKEND``: ``file`` or ``redis``;
- ``LOAD_STATE_FILE``: the state file (file backend, with its default
  ``check_interval`` of 0.5 s, as deployed);
- ``LOAD_REDIS_URL`` and ``LOAD_REDIS_KEY``: the server and the state key (Redis backend).

Routes:

- ``GET /fast?i=N``: the app's own answer, ``{"app": "load-toggled", "i": N}``;
- ``GET /slow``: stays inside the handler until the middleware's backend says
  maintenance is on (at most ``SLOW_DEADLINE`` seconds), then answers ``200``,
  so a request that got in while maintenance was off is still in flight when it
  turns on;
- ``GET /probe`` (always reachable): how many ``/slow`` handlers are running, and
  the state as the middleware's backend reports it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    get_maintenance_mode,
)
from fastapi_maintenance.backends import BaseStateBackend, LocalFileBackend

from tests.load.apps import APP_NAME

SLOW_DEADLINE = 10.0  # seconds a /slow handler waits for maintenance at most
SLOW_POLL = 0.005  # seconds between two looks at the state inside /slow


def _backend() -> BaseStateBackend:
    kind = os.environ["LOAD_BACKEND"]
    if kind == "file":
        return LocalFileBackend(os.environ["LOAD_STATE_FILE"])
    if kind == "redis":
        from fastapi_maintenance.backends import RedisBackend

        return RedisBackend(os.environ["LOAD_REDIS_URL"], key=os.environ["LOAD_REDIS_KEY"])
    raise ValueError(f"LOAD_BACKEND must be 'file' or 'redis', not {kind!r}")


backend = _backend()
inflight = 0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    close = getattr(backend, "aclose", None)
    if close is not None:
        await close()


app = FastAPI(lifespan=lifespan)
app.add_middleware(MaintenanceModeMiddleware, backend=backend)


@app.get("/fast")
async def fast(i: int) -> dict[str, object]:
    return {"app": APP_NAME, "i": i}


@app.get("/slow")
async def slow() -> dict[str, object]:
    global inflight
    inflight += 1
    try:
        # The middleware let this request in; wait, inside the handler, until the
        # same backend says maintenance is on: new requests are refused from then on.
        started = time.monotonic()
        was_off = not await get_maintenance_mode()
        saw_on = not was_off
        while not saw_on and time.monotonic() - started < SLOW_DEADLINE:
            await asyncio.sleep(SLOW_POLL)
            saw_on = await get_maintenance_mode()
        return {
            "app": APP_NAME,
            "slow": True,
            "entered_while_off": was_off,
            "saw_maintenance": saw_on,
            "waited": round(time.monotonic() - started, 3),
        }
    finally:
        inflight -= 1


@app.get("/probe")
@force_maintenance_mode_off
async def probe() -> dict[str, object]:
    return {"inflight": inflight, "maintenance": await get_maintenance_mode()}
