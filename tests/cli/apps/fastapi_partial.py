"""A FastAPI app with reads, writes and marked endpoints, whose middleware has a file
backend of its own: what ``on --read-only`` leaves open and what it closes."""

import os

from fastapi import FastAPI, WebSocket
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)
from fastapi_maintenance.backends import LocalFileBackend

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    backend=LocalFileBackend(os.environ["CLI_TEST_STATE_FILE"], check_interval=0),
)


@app.get("/items")
def list_items() -> list[str]:
    return ["a", "b"]


@app.post("/items")
def add_item() -> dict[str, str]:
    return {"added": "c"}


@app.post("/health")
@force_maintenance_mode_off
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/closed")
@force_maintenance_mode_on
def closed() -> dict[str, str]:
    return {"status": "never served"}


@app.websocket("/ws")
async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()
