"""A FastAPI app that fixes maintenance on in code, whatever its backend stores."""

import os

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    enable_maintenance=True,
    backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"]),
)
