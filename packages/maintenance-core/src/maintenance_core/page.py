"""A maintenance page for browsers, and the documented JSON for everyone else.

:class:`MaintenancePage` holds both answers, rendered once: a small HTML page
(accessible, responsive, no JavaScript) for requests whose ``Accept`` header
prefers ``text/html`` over ``application/json``, and the default JSON body for
API clients. Framework adapters wrap the prepared bodies and headers in their
own response classes; nothing is rendered per request.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from .errors import ConfigurationError
from .responses import DEFAULT_DETAIL, DEFAULT_RETRY_AFTER, MaintenanceResponse
from .state import NOTICE_SCOPE_KEY, MaintenanceNotice

__all__ = [
    "DEFAULT_MESSAGE",
    "DEFAULT_TITLE",
    "MaintenancePage",
    "accept_header",
    "prefers_html",
    "render_page",
]

DEFAULT_TITLE = "Down for maintenance"
DEFAULT_MESSAGE = "We are doing some maintenance and will be back shortly."

_HTML = ("text", "html")
_JSON = ("application", "json")

# Light and dark palettes; every text colour is well above WCAG AA (4.5:1) on its background.
_STYLE = """\
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#ffffff;--text:#1b1f24;--muted:#454c55;\
--accent:#8a4b00}
@media (prefers-color-scheme:dark){:root{--bg:#121417;--card:#1d2025;--text:#eceef1;\
--muted:#c3c9d1;--accent:#f0b060}}
*{box-sizing:border-box}
html{font-size:100%}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
padding:1.25rem;background:var(--bg);color:var(--text);\
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;\
line-height:1.55}
main{width:100%;max-width:36rem;padding:clamp(1.5rem,5vw,2.75rem);background:var(--card);\
border-radius:.75rem;border-top:.375rem solid var(--accent);\
box-shadow:0 .25rem 1.5rem rgba(0,0,0,.08)}
h1{margin:0 0 .75rem;font-size:clamp(1.5rem,4.5vw,2.125rem);line-height:1.2;\
overflow-wrap:anywhere}
p{margin:0 0 .75rem;font-size:1.0625rem;overflow-wrap:anywhere}
p:last-child{margin-bottom:0}
.note{color:var(--muted);font-size:.9375rem}"""


def _media_ranges(accept: str) -> Iterable[tuple[str, str, float]]:
    """The well-formed media ranges of an ``Accept`` value: ``(type, subtype, q)``.

    Malformed ranges (no ``/``, a wildcard type with a concrete subtype, a
    ``q`` that is not a number between 0 and 1) are left out.
    """
    for item in accept.split(","):
        media_range, *params = item.split(";")
        kind, slash, subtype = media_range.strip().lower().partition("/")
        kind, subtype = kind.strip(), subtype.strip()
        if not slash or not kind or not subtype or (kind == "*" and subtype != "*"):
            continue
        quality = 1.0
        valid = True
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                quality = float(value.strip())
            except ValueError:
                valid = False
                break
            if not 0.0 <= quality <= 1.0:  # also rejects nan
                valid = False
            break  # parameters after q are accept-extensions
        if valid:
            yield kind, subtype, quality


def _quality(ranges: list[tuple[str, str, float]], wanted: tuple[str, str]) -> float:
    """How much *ranges* accept *wanted*: the ``q`` of the most specific matching range."""
    best_specificity = -1
    best_quality = 0.0
    for kind, subtype, quality in ranges:
        if (kind, subtype) == wanted:
            specificity = 2
        elif kind == wanted[0] and subtype == "*":
            specificity = 1
        elif kind == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity or (
            specificity == best_specificity and quality > best_quality
        ):
            best_specificity, best_quality = specificity, quality
    return best_quality


def prefers_html(accept: str) -> bool:
    """Whether an ``Accept`` header value prefers ``text/html`` over ``application/json``.

    Each type gets the ``q`` of the most specific range that matches it
    (``text/html`` over ``text/*`` over ``*/*``); HTML wins only with a strictly
    higher ``q``. So ``*/*`` alone, an empty or missing header and a tie all
    mean JSON, and malformed ranges are ignored.
    """
    ranges = list(_media_ranges(accept))
    return _quality(ranges, _HTML) > _quality(ranges, _JSON)


def accept_header(scope: Mapping[str, Any]) -> str:
    """The request's ``Accept`` value from an ASGI scope, repeated headers joined with commas."""
    return ", ".join(
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name.lower() == b"accept"
    )


def _check_text(name: str, value: object, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string or None, got {value!r}.")
    return value


def _check_refresh(refresh: object) -> int | None:
    if refresh is None:
        return None
    if isinstance(refresh, bool) or not isinstance(refresh, int) or refresh <= 0:
        raise ConfigurationError(
            f"refresh must be a positive whole number of seconds or None, got {refresh!r}."
        )
    return refresh


def render_page(
    title: str | None = None,
    message: str | None = None,
    refresh: int | None = None,
    end: datetime | None = None,
) -> str:
    """The maintenance page as an HTML document.

    Args:
        title: the page title and heading; ``"Down for maintenance"`` by default.
        message: the paragraph under the heading; a default sentence when ``None``.
        refresh: seconds after which the browser reloads the page by itself
            (a ``<meta http-equiv="refresh">``, no JavaScript), or ``None``.
        end: when the maintenance window ends, shown in UTC, or ``None``.

    The title and message are HTML-escaped.

    Raises:
        ConfigurationError: *title* or *message* is not a string, or *refresh*
            is not a positive int (a ``TypeError`` and ``ValueError``).
    """
    safe_title = html.escape(_check_text("title", title, DEFAULT_TITLE))
    safe_message = html.escape(_check_text("message", message, DEFAULT_MESSAGE))
    seconds = _check_refresh(refresh)
    refresh_meta = ""
    refresh_note = ""
    end_note = ""
    if end is not None:
        utc = end.astimezone(timezone.utc)
        shown = utc.strftime("%d %B %Y, %H:%M UTC").lstrip("0")
        end_note = f'<p>Expected back by <time datetime="{utc.isoformat()}">{shown}</time>.</p>\n'
    if seconds is not None:
        unit = "second" if seconds == 1 else "seconds"
        refresh_meta = f'<meta http-equiv="refresh" content="{seconds}">\n'
        refresh_note = f'<p class="note">This page refreshes itself every {seconds} {unit}.</p>\n'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"{refresh_meta}"
        f"<title>{safe_title}</title>\n"
        f"<style>\n{_STYLE}\n</style>\n"
        "</head>\n"
        "<body>\n"
        "<main>\n"
        f"<h1>{safe_title}</h1>\n"
        f"<p>{safe_message}</p>\n"
        f"{end_note}"
        f"{refresh_note}"
        "</main>\n"
        "</body>\n"
        "</html>\n"
    )


class MaintenancePage:
    """Both maintenance answers, prepared once: the HTML page and the default JSON.

    Args:
        title: the page title and heading; ``"Down for maintenance"`` by default.
        message: the paragraph under the heading; a default sentence when ``None``.
        refresh: seconds after which browsers reload the page, or ``None``.

    Attributes:
        status_code: ``503``.
        html: the encoded page (UTF-8).
        json: the encoded default JSON body, as the middleware sends it.
        html_headers: headers for the page (``Retry-After``, ``Cache-Control:
            no-store``, ``Vary: Accept``), without the content type.
        json_headers: headers for the JSON (``Retry-After``, ``Vary: Accept``),
            without the content type.

    During a window with an end, :meth:`answer` adds the end to the page and
    counts ``Retry-After`` down to it.

    Raises:
        ConfigurationError: *title* or *message* is not a string, or *refresh*
            is not a positive int (a ``TypeError`` and ``ValueError``).
    """

    status_code = 503

    def __init__(
        self, title: str | None = None, message: str | None = None, refresh: int | None = None
    ) -> None:
        self._texts = (title, message, refresh)
        self._dated: tuple[datetime, bytes] | None = None
        self.html: bytes = render_page(title, message, refresh).encode("utf-8")
        self.json: bytes = MaintenanceResponse(content={"detail": DEFAULT_DETAIL}).body
        retry_after = str(DEFAULT_RETRY_AFTER)
        self.html_headers: Mapping[str, str] = {
            "retry-after": retry_after,
            "cache-control": "no-store",
            "vary": "Accept",
        }
        self.json_headers: Mapping[str, str] = {"retry-after": retry_after, "vary": "Accept"}

    def wants_html(self, scope: Mapping[str, Any]) -> bool:
        """Whether the request in *scope* should get the HTML page rather than the JSON."""
        return prefers_html(accept_header(scope))

    def answer(self, scope: Mapping[str, Any]) -> tuple[bool, bytes, Mapping[str, str]]:
        """The answer for a refused request: ``(is_html, body, headers)``.

        Uses the :class:`~maintenance_core.state.MaintenanceNotice` the
        middleware put in *scope*: the window's end on the page and its
        ``Retry-After``.
        """
        is_html = self.wants_html(scope)
        notice = scope.get(NOTICE_SCOPE_KEY)
        if not isinstance(notice, MaintenanceNotice) or notice.retry_after is None:
            return (
                (True, self.html, self.html_headers)
                if is_html
                else (False, self.json, self.json_headers)
            )
        retry_after = str(notice.retry_after)
        if not is_html:
            return False, self.json, {**self.json_headers, "retry-after": retry_after}
        headers = {**self.html_headers, "retry-after": retry_after}
        if notice.end is None:
            return True, self.html, headers
        return True, self._page_until(notice.end), headers

    def _page_until(self, end: datetime) -> bytes:
        # Every request of one window shows the same end: render it once.
        dated = self._dated
        if dated is None or dated[0] != end:
            dated = self._dated = (end, render_page(*self._texts, end=end).encode("utf-8"))
        return dated[1]
