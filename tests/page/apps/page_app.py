"""A FastAPI app in maintenance that serves the HTML page, for the real-browser test."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import anyio
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import MemoryBackend
from fastapi_maintenance.responses import maintenance_page
from maintenance_core.state import MaintenanceState

TITLE = "Back soon <script>document.title='pwned'</script>"
MESSAGE = "Our database is being upgraded & will return within the hour."

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    enable_maintenance=True,
    response_handler=maintenance_page(title=TITLE, message=MESSAGE, refresh=300),
)


@app.get("/")
def root() -> dict[str, str]:
    return {"message": "Hello World"}


# The same page during a window: it ends at $PAGE_WINDOW_END (ISO 8601), else two
# hours after the app starts.
_default_end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
window_backend = MemoryBackend()
anyio.run(
    window_backend.set_state,
    MaintenanceState.scheduled(end=os.environ.get("PAGE_WINDOW_END") or _default_end),
)

windowed_app = FastAPI()
windowed_app.add_middleware(
    MaintenanceModeMiddleware,
    backend=window_backend,
    response_handler=maintenance_page(title="Back soon", refresh=300),
)


@windowed_app.get("/")
def windowed_root() -> dict[str, str]:
    return {"message": "Hello World"}
