"""Ready-made maintenance responses for Litestar apps.

::

    from litestar_maintenance import MaintenancePlugin
    from litestar_maintenance.responses import maintenance_page

    app = Litestar(
        route_handlers=[...],
        plugins=[MaintenancePlugin(response_handler=maintenance_page(refresh=60))],
    )
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import Request
from litestar.enums import MediaType
from litestar.response import Response
from maintenance_core.page import MaintenancePage

__all__ = ["maintenance_page"]


def maintenance_page(
    title: str | None = None, message: str | None = None, refresh: int | None = None
) -> Callable[[Request[Any, Any, Any]], Response[bytes]]:
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

    def response_handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        if page.wants_html(request.scope):
            return Response(
                page.html,
                status_code=page.status_code,
                media_type=MediaType.HTML,
                headers=page.html_headers,
            )
        return Response(
            page.json,
            status_code=page.status_code,
            media_type=MediaType.JSON,
            headers=page.json_headers,
        )

    return response_handler
