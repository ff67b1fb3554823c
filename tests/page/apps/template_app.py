"""A FastAPI app in a maintenance window that serves a page template of its own, in
French, for the real-browser test."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import anyio
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceConfig, MaintenanceModeMiddleware
from fastapi_maintenance.backends import MemoryBackend
from fastapi_maintenance.responses import maintenance_page
from maintenance_core.state import MaintenanceState

TITLE = "En maintenance <img src=x onerror=\"document.title='pwned'\">"

TEMPLATE = """<!DOCTYPE html>
<html lang="$lang">
<head><meta charset="utf-8"><title>$title</title>$refresh_meta</head>
<body>
<main id="page">
<h1>$title</h1>
<p id="message">$message</p>
$end_note
<p id="retry">Réessayez dans $retry_after secondes.</p>
<p id="price">Prix : 5 $$</p>
</main>
</body>
</html>
"""

TEXTS = {
    "expected_back": "Retour prévu le $end.",
    "date_format": "%d/%m/%Y à %H:%M UTC",
}

# The window ends at $PAGE_WINDOW_END (ISO 8601), else two hours after the app starts.
_default_end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
backend = MemoryBackend()
anyio.run(
    backend.set_state,
    MaintenanceState.scheduled(end=os.environ.get("PAGE_WINDOW_END") or _default_end),
)

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    config=MaintenanceConfig(
        backend=backend,
        response_handler=maintenance_page(
            title=TITLE,
            message="Nous serons bientôt de retour & plus rapides.",
            refresh=120,
            template=TEMPLATE,
            texts=TEXTS,
            lang="fr",
        ),
    ),
)


@app.get("/")
def root() -> dict[str, str]:
    return {"message": "Bonjour"}
