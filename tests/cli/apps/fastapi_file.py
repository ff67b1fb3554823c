"""A FastAPI app whose middleware has a file backend of its own."""

import os

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"], check_interval=0),
)


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "hello"}
