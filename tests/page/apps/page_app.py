"""A FastAPI app in maintenance that serves the HTML page, for the real-browser test."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.responses import maintenance_page

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
