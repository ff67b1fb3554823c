"""A FastAPI app in read-only maintenance that serves the HTML page, for the real-browser
test: ``GET /form`` (a read, so it is served) posts its form to ``/items`` as soon as it
loads, and that write gets the read-only page."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import anyio
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import MemoryBackend
from fastapi_maintenance.responses import maintenance_page
from maintenance_core.coverage import Coverage
from maintenance_core.state import MaintenanceState

FORM = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Order</title></head>
<body><form method="post" action="/items"><input name="item" value="book"></form>
<script>document.forms[0].submit()</script></body></html>
"""

# A read-only window: it ends at $PAGE_WINDOW_END (ISO 8601), else two hours after start.
_default_end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
window = MaintenanceState.scheduled(end=os.environ.get("PAGE_WINDOW_END") or _default_end)
backend = MemoryBackend()
anyio.run(backend.set_state, window.with_coverage(Coverage(read_only=True)))

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    backend=backend,
    response_handler=maintenance_page(title="Down for the upgrade", refresh=300),
)


@app.get("/form", response_class=HTMLResponse)
def form() -> str:
    return FORM


@app.post("/items", response_class=HTMLResponse)
def add_item() -> str:
    return "<!DOCTYPE html><html><body><h1>Item added</h1></body></html>"
