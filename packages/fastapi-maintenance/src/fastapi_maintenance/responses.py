"""Ready-made maintenance responses for FastAPI and Starlette apps.

::

    from fastapi_maintenance import MaintenanceModeMiddleware
    from fastapi_maintenance.responses import maintenance_page

    app.add_middleware(
        MaintenanceModeMiddleware,
        response_handler=maintenance_page(title="Back soon", refresh=60),
    )
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from maintenance_core.page import MaintenancePage
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

__all__ = ["maintenance_page"]


class _EncodedJSONResponse(JSONResponse):
    """A ``JSONResponse`` whose content is already encoded JSON bytes."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return super().render(content)


def maintenance_page(
    title: str | None = None, message: str | None = None, refresh: int | None = None
) -> Callable[[Request], Response]:
    """A ``response_handler`` that shows browsers an HTML maintenance page.

    Requests whose ``Accept`` header prefers ``text/html`` over
    ``application/json`` get a small HTML page (``503``, ``Retry-After: 3600``,
    ``Cache-Control: no-store``); every other request, including one without
    ``Accept`` or with only ``*/*``, gets the default JSON ``503``. Both vary on
    ``Accept``. The page is rendered once, here.

    Args:
        title: the page title and heading; ``"Down for maintenance"`` by default.
        message: the text under the heading; a default sentence when ``None``.
        refresh: seconds after which browsers reload the page by themselves, or
            ``None`` for no reload.

    Raises:
        TypeError: *title* or *message* is not a string.
        ValueError: *refresh* is not a positive int.
    """
    page = MaintenancePage(title, message, refresh)

    def response_handler(request: Request) -> Response:
        if page.wants_html(request.scope):
            return HTMLResponse(page.html, status_code=page.status_code, headers=page.html_headers)
        return _EncodedJSONResponse(
            page.json, status_code=page.status_code, headers=page.json_headers
        )

    return response_handler
