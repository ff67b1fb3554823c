"""A FastAPI app on a ``RedisBackend``, served by uvicorn in the Redis fault tests.

Configured by the environment variable ``REDIS_URL``. The library's log lines
go to stderr, one record per line as ``LEVEL logger message``, so the test can
count them in the server's output.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import RedisBackend

_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
_library_logger = logging.getLogger("fastapi_maintenance")  # as a 0.0.5 user configures it
_library_logger.addHandler(_handler)
_library_logger.setLevel(logging.INFO)
_library_logger.propagate = False

backend = RedisBackend(url=os.environ["REDIS_URL"])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await backend.aclose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(MaintenanceModeMiddleware, backend=backend)


@app.get("/items")
async def items() -> list[str]:
    return ["a", "b"]
