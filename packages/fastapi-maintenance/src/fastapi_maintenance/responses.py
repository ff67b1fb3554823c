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
        is_html, body, headers = page.answer(request.scope)
        if is_html:
            return HTMLResponse(body, status_code=page.status_code, headers=headers)
        return _EncodedJSONResponse(body, status_code=page.status_code, headers=headers)

    return response_handler
