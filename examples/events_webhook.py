"""Tell the team in chat when maintenance mode changes, wherever it was switched.

Every process of the app subscribes to its backend's state changes. With Redis, a
change made anywhere in the fleet (the command line on another host, another
worker's ``set_maintenance_mode()``) reaches every process through Redis pub/sub,
so each listener hears it: post from one place only (here, the process that runs
with ``CHAT_ANNOUNCER=1``), or let each process post and deduplicate in chat.

Run it with::

    CHAT_WEBHOOK_URL=https://hooks.slack.com/services/... \\
    REDIS_URL=redis://localhost:6379/0 CHAT_ANNOUNCER=1 \\
    uvicorn events_webhook:app --app-dir examples

then, from anywhere: ``fastapi-maintenance on --backend redis --for 30m``.
The message is a Slack-style ``{"text": ...}``; Mattermost, Rocket.Chat and
Discord (with ``/slack`` at the end of the webhook URL) take the same body.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceConfig, MaintenanceModeMiddleware
from fastapi_maintenance.backends import RedisBackend
from maintenance_core.events import StateChange, on_state_change

logger = logging.getLogger("events_webhook")

WEBHOOK_URL = os.environ.get("CHAT_WEBHOOK_URL", "")
backend = RedisBackend(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


def describe(change: StateChange) -> str:
    """One chat line: what changed, and where the change came from."""
    new = change.new
    if not new.on:
        what = "Maintenance is OFF: the app is back."
    elif new.end is not None:
        what = f"Maintenance is ON until {new.end:%Y-%m-%d %H:%M} UTC."
    else:
        what = "Maintenance is ON until switched off."
    if new.on and new.start is not None:
        what += f" (The window starts {new.start:%Y-%m-%d %H:%M} UTC.)"
    where = "in this process" if change.source == "local" else "by the fleet"
    return f"{what} Switched {where} ({change.backend})."


async def post_to_chat(change: StateChange) -> None:
    """An async listener: it runs in a task of its own, so a slow chat never delays
    a request, and an error here is logged by the library, never raised into one."""
    if not change.switched and change.old is not None and change.old.end == change.new.end:
        return  # e.g. only a new bypass secret: nothing to tell the team
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.post(WEBHOOK_URL, json={"text": describe(change)})
        response.raise_for_status()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    unsubscribe = None
    if WEBHOOK_URL and os.environ.get("CHAT_ANNOUNCER") == "1":
        unsubscribe = on_state_change(backend, post_to_chat)
    await backend.get_state()  # starts listening to the fleet before the first request
    try:
        yield
    finally:
        if unsubscribe is not None:
            unsubscribe()
        await backend.aclose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(MaintenanceModeMiddleware, config=MaintenanceConfig(backend=backend))


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello World"}
