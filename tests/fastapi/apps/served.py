"""An app served by a real uvicorn in tests; the state lives in the file named by STATE_FILE."""

from __future__ import annotations

import os

from fastapi import FastAPI, WebSocket
from fastapi_maintenance import MaintenanceModeMiddleware, force_maintenance_mode_off
from fastapi_maintenance.backends import LocalFileBackend

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware, backend=LocalFileBackend(os.environ["STATE_FILE"]))


@app.get("/items")
def items() -> list[str]:
    return ["a", "b"]


@app.get("/health")
@force_maintenance_mode_off
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


@app.websocket("/ws-open")
@force_maintenance_mode_off
async def echo_open(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("open:" + await websocket.receive_text())
    await websocket.close()
