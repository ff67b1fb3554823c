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

import os
from collections.abc import Callable, Mapping
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
    title: str | None = None,
    message: str | None = None,
    refresh: int | None = None,
    *,
    template: str | None = None,
    template_path: str | os.PathLike[str] | None = None,
    texts: Mapping[str, str] | None = None,
    lang: str = "en",
) -> Callable[[Request], Response]:
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

    def response_handler(request: Request) -> Response:
        is_html, body, headers = page.answer(request.scope)
        if is_html:
            return HTMLResponse(body, status_code=page.status_code, headers=headers)
        return _EncodedJSONResponse(body, status_code=page.status_code, headers=headers)

    return response_handler
