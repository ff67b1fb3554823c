"""A FastAPI app whose middleware has no backend: the one configured at import decides."""

import os

import fastapi_maintenance
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceConfig, MaintenanceModeMiddleware

fastapi_maintenance.configure_backend("file", file_path=os.environ["CLI_TEST_STATE_FILE"])

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware, config=MaintenanceConfig())


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "hello"}
