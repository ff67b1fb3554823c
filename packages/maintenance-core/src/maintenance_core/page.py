"""A maintenance page for browsers, and the documented JSON for everyone else.

:class:`MaintenancePage` holds both answers, rendered once: a small HTML page
(accessible, responsive, no JavaScript) for requests whose ``Accept`` header
prefers ``text/html`` over ``application/json``, and the default JSON body for
API clients. Framework adapters wrap the prepared bodies and headers in their
own response classes; nothing is rendered per request (a page is rendered once
per window end, and a template showing ``$retry_after`` when the seconds change).

During read-only maintenance (:mod:`maintenance_core.coverage`) a refused
request is a write: the page then says the service is read-only (reads work,
changes are paused; ``texts["read_only_title"]`` and ``texts["read_only_message"]``),
and the JSON answer carries :data:`~maintenance_core.responses.READ_ONLY_DETAIL`,
with the same ``Retry-After``. Maintenance limited to route groups keeps the usual
page: the routes it refuses are closed.

The page can be your own (``template=`` or ``template_path=``, see
:data:`TEMPLATE_PLACEHOLDERS`), in your language (``lang=``, and ``texts=`` for
the fixed sentences, see :data:`DEFAULT_TEXTS`).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from string import Template
from types import MappingProxyType
from typing import Any

from .errors import ConfigurationError
from .responses import DEFAULT_DETAIL, DEFAULT_RETRY_AFTER, READ_ONLY_DETAIL, MaintenanceResponse
from .state import NOTICE_SCOPE_KEY, MaintenanceNotice

__all__ = [
    "DEFAULT_MESSAGE",
    "DEFAULT_READ_ONLY_MESSAGE",
    "DEFAULT_READ_ONLY_TITLE",
    "DEFAULT_TEXTS",
    "DEFAULT_TITLE",
    "TEMPLATE_PLACEHOLDERS",
    "MaintenancePage",
    "accept_header",
    "prefers_html",
    "render_page",
]

DEFAULT_TITLE = "Down for maintenance"
DEFAULT_MESSAGE = "We are doing some maintenance and will be back shortly."
DEFAULT_READ_ONLY_TITLE = "Read-only for maintenance"
DEFAULT_READ_ONLY_MESSAGE = (
    "You can still browse and read everything, but changes are paused while we do some "
    "maintenance. Please try again shortly."
)

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


_LANG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def _check_lang(lang: object) -> str:
    if not isinstance(lang, str) or not _LANG.fullmatch(lang):
        raise ConfigurationError(
            f"lang must be a language tag such as 'en', 'fr' or 'pt-BR', got {lang!r}."
        )
    return lang


def _identifiers(text: str, what: str) -> set[str]:
    """The ``$placeholders`` of a :class:`string.Template` text.

    Raises:
        ConfigurationError: for a ``$`` that starts no placeholder.
    """
    found: set[str] = set()
    for match in Template.pattern.finditer(text):
        if match.group("invalid") is not None:
            line = text.count("\n", 0, match.start("invalid")) + 1
            raise ConfigurationError(
                f"{what} has a '$' that starts no placeholder (line {line}): write $$ for a "
                "dollar sign, and $name or ${name} for a placeholder."
            )
        name = match.group("named") or match.group("braced")
        if name is not None:
            found.add(name)
    return found


def _check_placeholders(text: str, what: str, allowed: Iterable[str]) -> set[str]:
    known = set(allowed)
    found = _identifiers(text, what)
    unknown = sorted(found - known)
    if unknown:
        raise ConfigurationError(
            f"{what} has the unknown placeholder{'s' if len(unknown) > 1 else ''} "
            f"{', '.join('$' + name for name in unknown)}; the placeholders are "
            f"{', '.join('$' + name for name in sorted(known))}."
        )
    return found


DEFAULT_TEXTS: Mapping[str, str] = MappingProxyType(
    {
        "expected_back": "Expected back by $end.",
        "refreshes": "This page refreshes itself every $seconds seconds.",
        "refreshes_one": "This page refreshes itself every $seconds second.",
        "date_format": "%d %B %Y, %H:%M UTC",
        "read_only_title": DEFAULT_READ_ONLY_TITLE,
        "read_only_message": DEFAULT_READ_ONLY_MESSAGE,
    }
)
"""The page's fixed sentences, in English; ``texts=`` replaces any of them.

- ``expected_back``: under the message while a window with an end is open;
  ``$end`` is the end, in ``date_format``.
- ``refreshes`` and ``refreshes_one`` (for 1 second): with ``refresh=``;
  ``$seconds`` is the number of seconds. Giving only ``refreshes`` uses it for
  1 second too.
- ``date_format``: a :meth:`~datetime.datetime.strftime` format for the end, in UTC.
- ``read_only_title`` and ``read_only_message``: the title (and heading) and the
  paragraph of the page during read-only maintenance, instead of ``title=`` and
  ``message=`` (which say the service is down). Plain text, like ``title=``: no
  placeholders, a ``$`` is a dollar sign.
"""

_TEXT_PLACEHOLDERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "expected_back": ("end",),
        "refreshes": ("seconds",),
        "refreshes_one": ("seconds",),
        "date_format": (),
        "read_only_title": (),
        "read_only_message": (),
    }
)

TEMPLATE_PLACEHOLDERS: tuple[str, ...] = (
    "lang",
    "title",
    "message",
    "end",
    "end_iso",
    "retry_after",
    "refresh",
    "end_note",
    "refresh_meta",
    "refresh_note",
    "read_only",
)
"""What a page template (``template=``/``template_path=``) may use, as ``$name``:

- ``$lang``, ``$title``, ``$message``: as given (or the defaults); during
  read-only maintenance ``$title`` and ``$message`` are ``texts["read_only_title"]``
  and ``texts["read_only_message"]``;
- ``$read_only``: ``true`` during read-only maintenance, else ``false`` (for an
  attribute: ``<body data-read-only="$read_only">``);
- ``$end``: the window's end in ``date_format`` (empty without an end);
  ``$end_iso``: the same in ISO 8601, for ``<time datetime="...">``;
- ``$retry_after``: the seconds sent in ``Retry-After`` (a window's countdown,
  the state's stored value or the configured one);
- ``$refresh``: the ``refresh=`` seconds (empty without);
- ``$end_note``, ``$refresh_meta``, ``$refresh_note``: the ready-made HTML the
  default page shows (the ``expected_back`` paragraph, the ``<meta
  http-equiv="refresh">`` and the ``refreshes`` paragraph), each empty when it
  does not apply.

Every value is HTML-escaped before it is inserted; the template itself is
yours and is used as it is. ``$$`` is a dollar sign.
"""


def _check_texts(texts: object) -> dict[str, str]:
    if texts is None:
        return dict(DEFAULT_TEXTS)
    if not isinstance(texts, Mapping):
        raise ConfigurationError(f"texts must be a mapping of names to strings, got {texts!r}.")
    unknown = sorted(str(key) for key in texts if key not in DEFAULT_TEXTS)
    if unknown:
        raise ConfigurationError(
            f"texts has the unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the keys are {', '.join(DEFAULT_TEXTS)}."
        )
    checked = dict(DEFAULT_TEXTS)
    if "refreshes" in texts and "refreshes_one" not in texts:
        checked["refreshes_one"] = texts["refreshes"]
    for key, value in texts.items():
        if not isinstance(value, str):
            raise ConfigurationError(f"texts[{key!r}] must be a string, got {value!r}.")
        checked[key] = value
    for key, allowed in _TEXT_PLACEHOLDERS.items():
        if allowed:
            _check_placeholders(checked[key], f"texts[{key!r}]", allowed)
    try:
        datetime(2026, 1, 1, tzinfo=timezone.utc).strftime(checked["date_format"])
    except ValueError as exc:
        raise ConfigurationError(f"texts['date_format'] is not a date format: {exc}.") from None
    return checked


def _read_template(template: object, template_path: object) -> str | None:
    if template is not None and template_path is not None:
        raise ConfigurationError("Give either template= or template_path=, not both.")
    if template is not None:
        if not isinstance(template, str):
            raise ConfigurationError(f"template must be a string, got {type(template).__name__}.")
        return template
    if template_path is None:
        return None
    if not isinstance(template_path, (str, os.PathLike)):
        raise ConfigurationError(f"template_path must be a path, got {template_path!r}.")
    try:
        with open(template_path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"Cannot read the page template {os.fspath(template_path)!r}: {exc}."
        ) from None


class _Renderer:
    """The page's checked settings; renders it for a window end and a ``Retry-After``."""

    def __init__(
        self,
        title: str | None,
        message: str | None,
        refresh: int | None,
        *,
        lang: str = "en",
        texts: Mapping[str, str] | None = None,
        template: str | None = None,
        template_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.title = _check_text("title", title, DEFAULT_TITLE)
        self.message = _check_text("message", message, DEFAULT_MESSAGE)
        self.refresh = _check_refresh(refresh)
        self.lang = _check_lang(lang)
        self.texts = _check_texts(texts)
        source = _read_template(template, template_path)
        self.template = None if source is None else Template(source)
        used = (
            set()
            if source is None
            else _check_placeholders(source, "The page template", TEMPLATE_PLACEHOLDERS)
        )
        self.uses_retry_after = "retry_after" in used

    def _sentence(self, key: str, **values: str) -> str:
        # The sentence is escaped first, then its placeholders get their (safe) values.
        return Template(html.escape(self.texts[key])).substitute(values)

    def render(
        self, end: datetime | None = None, retry_after: int | None = None, read_only: bool = False
    ) -> str:
        if read_only:
            safe_title = html.escape(self.texts["read_only_title"])
            safe_message = html.escape(self.texts["read_only_message"])
        else:
            safe_title = html.escape(self.title)
            safe_message = html.escape(self.message)
        lang = html.escape(self.lang)
        end_text = end_iso = end_note = ""
        if end is not None:
            utc = end.astimezone(timezone.utc)
            end_text = utc.strftime(self.texts["date_format"])
            if self.texts["date_format"] == DEFAULT_TEXTS["date_format"]:
                end_text = end_text.lstrip("0")
            end_iso = utc.isoformat()
            shown = f'<time datetime="{html.escape(end_iso)}">{html.escape(end_text)}</time>'
            end_note = f"<p>{self._sentence('expected_back', end=shown)}</p>\n"
        refresh_meta = refresh_note = ""
        seconds = self.refresh
        if seconds is not None:
            key = "refreshes_one" if seconds == 1 else "refreshes"
            refresh_meta = f'<meta http-equiv="refresh" content="{seconds}">\n'
            refresh_note = f'<p class="note">{self._sentence(key, seconds=str(seconds))}</p>\n'
        if self.template is not None:
            return self.template.substitute(
                lang=lang,
                title=safe_title,
                message=safe_message,
                end=html.escape(end_text),
                end_iso=html.escape(end_iso),
                retry_after=str(DEFAULT_RETRY_AFTER if retry_after is None else retry_after),
                refresh="" if seconds is None else str(seconds),
                end_note=end_note,
                refresh_meta=refresh_meta,
                refresh_note=refresh_note,
                read_only="true" if read_only else "false",
            )
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n'
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


def render_page(
    title: str | None = None,
    message: str | None = None,
    refresh: int | None = None,
    end: datetime | None = None,
    *,
    lang: str = "en",
    texts: Mapping[str, str] | None = None,
    read_only: bool = False,
) -> str:
    """The maintenance page as an HTML document.

    Args:
        title: the page title and heading; ``"Down for maintenance"`` by default.
        message: the paragraph under the heading; a default sentence when ``None``.
        refresh: seconds after which the browser reloads the page by itself
            (a ``<meta http-equiv="refresh">``, no JavaScript), or ``None``.
        end: when the maintenance window ends, shown in UTC, or ``None``.
        lang: the page's language tag (``<html lang>``), ``"en"`` by default.
        texts: replacements for the fixed English sentences, see :data:`DEFAULT_TEXTS`.
        read_only: the page for read-only maintenance: ``texts["read_only_title"]``
            and ``texts["read_only_message"]`` instead of *title* and *message*.

    The title, message and sentences are HTML-escaped.

    Raises:
        ConfigurationError: *title* or *message* is not a string, *refresh* is
            not a positive int, *lang* is not a language tag, or *texts* has an
            unknown key or placeholder (a ``TypeError`` and ``ValueError``).
    """
    return _Renderer(title, message, refresh, lang=lang, texts=texts).render(
        end, read_only=read_only
    )


class MaintenancePage:
    """Both maintenance answers, prepared once: the HTML page and the default JSON.

    Args:
        title: the page title and heading; ``"Down for maintenance"`` by default.
        message: the paragraph under the heading; a default sentence when ``None``.
        refresh: seconds after which browsers reload the page, or ``None``.
        template: a page of your own, as a :class:`string.Template` text
            (``$title``, ``$end``, ``$retry_after``...: see
            :data:`TEMPLATE_PLACEHOLDERS`), instead of the default page.
        template_path: the same, read from a UTF-8 file once, here.
        texts: replacements for the default page's fixed English sentences
            (``expected_back``, ``refreshes``, ``refreshes_one``,
            ``date_format``, ``read_only_title``, ``read_only_message``): see
            :data:`DEFAULT_TEXTS`.
        lang: the page's language tag (``<html lang>``, ``$lang``), ``"en"`` by default.

    Attributes:
        status_code: ``503``.
        html: the encoded page (UTF-8).
        json: the encoded default JSON body, as the middleware sends it.
        read_only_html: the encoded page for read-only maintenance.
        read_only_json: the encoded read-only JSON body
            (:data:`~maintenance_core.responses.READ_ONLY_DETAIL`), as the
            middleware sends it.
        html_headers: headers for the page (``Retry-After``, ``Cache-Control:
            no-store``, ``Vary: Accept``), without the content type.
        json_headers: headers for the JSON (the same), without the content type.

    During a window with an end, :meth:`answer` adds the end to the page and
    counts ``Retry-After`` down to it; a ``Retry-After`` stored with the state or
    configured reaches the page the same way. When the notice's coverage is
    read-only, the answer is the read-only page or JSON, with the same
    ``Retry-After`` and window end. Values inserted into a template
    are HTML-escaped, and nothing in a template is evaluated: placeholders are
    replaced by name, never looked up as attributes or expressions.

    Raises:
        ConfigurationError: for a bad argument (a ``TypeError`` and
            ``ValueError``): *title* or *message* not a string, *refresh* not a
            positive int, both *template* and *template_path*, a template file
            that cannot be read, an unknown placeholder, a ``$`` that starts
            none, an unknown *texts* key, or a *lang* that is not a language tag.
    """

    status_code = 503

    def __init__(
        self,
        title: str | None = None,
        message: str | None = None,
        refresh: int | None = None,
        *,
        template: str | None = None,
        template_path: str | os.PathLike[str] | None = None,
        texts: Mapping[str, str] | None = None,
        lang: str = "en",
    ) -> None:
        self._renderer = _Renderer(
            title,
            message,
            refresh,
            lang=lang,
            texts=texts,
            template=template,
            template_path=template_path,
        )
        self._rendered: tuple[datetime | None, int | None, bool, bytes] | None = None
        self.html: bytes = self._renderer.render(None, DEFAULT_RETRY_AFTER).encode("utf-8")
        self.json: bytes = MaintenanceResponse(content={"detail": DEFAULT_DETAIL}).body
        self.read_only_html: bytes = self._renderer.render(
            None, DEFAULT_RETRY_AFTER, read_only=True
        ).encode("utf-8")
        self.read_only_json: bytes = MaintenanceResponse(content={"detail": READ_ONLY_DETAIL}).body
        retry_after = str(DEFAULT_RETRY_AFTER)
        self.html_headers: Mapping[str, str] = {
            "retry-after": retry_after,
            "cache-control": "no-store",
            "vary": "Accept",
        }
        self.json_headers: Mapping[str, str] = {
            "retry-after": retry_after,
            "cache-control": "no-store",
            "vary": "Accept",
        }

    def wants_html(self, scope: Mapping[str, Any]) -> bool:
        """Whether the request in *scope* should get the HTML page rather than the JSON."""
        return prefers_html(accept_header(scope))

    def answer(self, scope: Mapping[str, Any]) -> tuple[bool, bytes, Mapping[str, str]]:
        """The answer for a refused request: ``(is_html, body, headers)``.

        Uses the :class:`~maintenance_core.state.MaintenanceNotice` the
        middleware put in *scope*: the window's end on the page, the
        ``Retry-After`` to send, and whether maintenance is read-only (then the
        read-only page or JSON).
        """
        is_html = self.wants_html(scope)
        notice = scope.get(NOTICE_SCOPE_KEY)
        if not isinstance(notice, MaintenanceNotice):
            return (
                (True, self.html, self.html_headers)
                if is_html
                else (False, self.json, self.json_headers)
            )
        read_only = notice.coverage.read_only
        if notice.retry_after is None:
            if is_html:
                return True, self.read_only_html if read_only else self.html, self.html_headers
            return False, self.read_only_json if read_only else self.json, self.json_headers
        retry_after = str(notice.retry_after)
        if not is_html:
            body = self.read_only_json if read_only else self.json
            return False, body, {**self.json_headers, "retry-after": retry_after}
        headers = {**self.html_headers, "retry-after": retry_after}
        if notice.end is None and not (
            self._renderer.uses_retry_after and notice.retry_after != DEFAULT_RETRY_AFTER
        ):
            return True, self.read_only_html if read_only else self.html, headers
        return True, self._page(notice.end, notice.retry_after, read_only), headers

    def _page(self, end: datetime | None, retry_after: int, read_only: bool) -> bytes:
        # Every request of one window shows the same end: render it once (a template
        # showing $retry_after is rendered again when the seconds change). The
        # read-only page and the usual one replace each other in this one slot.
        key_retry = retry_after if self._renderer.uses_retry_after else None
        rendered = self._rendered
        if (
            rendered is None
            or rendered[0] != end
            or rendered[1] != key_retry
            or rendered[2] is not read_only
        ):
            page = self._renderer.render(end, retry_after, read_only).encode("utf-8")
            rendered = self._rendered = (end, key_retry, read_only, page)
        return rendered[3]
