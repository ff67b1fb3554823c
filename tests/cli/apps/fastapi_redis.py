"""A FastAPI app with a Redis backend given to its middleware."""

import os

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import RedisBackend

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware, backend=RedisBackend(os.environ["CLI_TEST_REDIS_URL"])
)


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "hello"}
