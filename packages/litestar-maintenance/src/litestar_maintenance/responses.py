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

import os
from collections.abc import Callable, Mapping
from typing import Any

from litestar.connection import Request
from litestar.enums import MediaType
from litestar.response import Response
from maintenance_core.page import MaintenancePage

__all__ = ["maintenance_page"]


def maintenance_page(
    title: str | None = None,
    message: str | None = None,
    refresh: int | None = None,
    *,
    template: str | None = None,
    template_path: str | os.PathLike[str] | None = None,
    texts: Mapping[str, str] | None = None,
    lang: str = "en",
) -> Callable[[Request[Any, Any, Any]], Response[bytes]]:
    """A ``response_handler`` that shows browsers an HTML maintenance page.

    Browsers (an ``Accept`` that prefers ``text/html``) get the page, every
    other client the default JSON ``503`` (the read-only detail during read-only
    maintenance); both are prepared once, here. The
    arguments, and the errors for bad ones, are those of
    :class:`maintenance_core.page.MaintenancePage`: a page of your own
    (``template=`` or ``template_path=``, with ``$title``, ``$end``,
    ``$retry_after``...), the fixed sentences in your words (``texts=``) and
    ``lang=``.
    """
    page = MaintenancePage(
        title,
        message,
        refresh,
        template=template,
        template_path=template_path,
        texts=texts,
        lang=lang,
    )

    def response_handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        is_html, body, headers = page.answer(request.scope)
        return Response(
            body,
            status_code=page.status_code,
            media_type=MediaType.HTML if is_html else MediaType.JSON,
            headers=headers,
        )

    return response_handler
