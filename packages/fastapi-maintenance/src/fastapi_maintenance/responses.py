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

    Browsers (an ``Accept`` that prefers ``text/html``) get the page, every
    other client the default JSON ``503``; both are prepared once, here. The
    arguments, and the errors for bad ones, are those of
    :class:`maintenance_core.page.MaintenancePage`.
    """
    page = MaintenancePage(title, message, refresh)

    def response_handler(request: Request) -> Response:
        if page.wants_html(request.scope):
            return HTMLResponse(page.html, status_code=page.status_code, headers=page.html_headers)
        return _EncodedJSONResponse(
            page.json, status_code=page.status_code, headers=page.json_headers
        )

    return response_handler
