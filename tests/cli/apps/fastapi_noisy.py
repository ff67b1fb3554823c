"""A FastAPI app that prints while it is imported, as some apps do."""

import os

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import LocalFileBackend

print("connecting to the database... done")

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware, backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"])
)
