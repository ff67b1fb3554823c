"""``prefers_html``: which Accept headers get the HTML page rather than the JSON."""

from __future__ import annotations

import pytest
from maintenance_core.page import accept_header, prefers_html

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", [CHROME, FIREFOX, SAFARI], ids=["chrome", "firefox", "safari"])
def test_browsers_prefer_html(accept: str) -> None:
    assert prefers_html(accept) is True


@pytest.mark.parametrize(
    "accept",
    [
        "",
        "*/*",  # curl, httpx, requests
        "application/json",
        "application/json, text/plain, */*",  # axios
        "text/html, application/json",  # a tie: JSON stays the default
        "application/json, */*;q=0.5",
        "text/*, application/*",
    ],
)
def test_api_clients_get_json(accept: str) -> None:
    assert prefers_html(accept) is False


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html;q=0.9, application/json;q=0.8", True),
        ("text/html;q=0.8, application/json;q=0.9", False),
        ("application/json;q=0.1, text/html", True),
        ("text/html;q=0.5, application/json", False),
        ("text/html;q=0, */*", False),  # HTML explicitly refused
        ("application/json;q=0, */*", True),  # JSON refused outright: HTML is acceptable
        ("application/json;q=0, text/html", True),
        ("text/*;q=0.9, application/json;q=0.5", True),
        ("text/*, text/html;q=0.1, application/json;q=0.5", False),  # most specific wins
        ("*/*;q=0.9, application/json;q=0.2", True),
        ("TEXT/HTML;Q=1.0, APPLICATION/JSON;Q=0.5", True),
        (" text/html ; q=0.7 ; level=1 , application/json ; q=0.6 ", True),
        ("text/html;level=1, application/json;q=0.9", True),
    ],
)
def test_q_values(accept: str, expected: bool) -> None:
    assert prefers_html(accept) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html;q=abc", False),  # a broken q drops the range
        ("text/html;q=abc, application/json;q=0.5", False),
        ("text/html;q=2, application/json;q=0.5", False),  # q above 1
        ("text/html;q=-1", False),
        ("text/html;q=nan", False),
        ("text/html;q=", False),
        ("html", False),
        ("*/html", False),
        ("/html", False),
        ("text/", False),
        (",,;;,", False),
        (";q=1", False),
        ("garbage, text/html;q=0.9, application/json;q=0.1", True),  # others still count
        ("text/html;q=oops, text/html;q=0.4, application/json;q=0.3", True),
    ],
)
def test_malformed_values(accept: str, expected: bool) -> None:
    assert prefers_html(accept) is expected


def test_accept_header_joins_repeated_headers() -> None:
    scope = {
        "headers": [
            (b"accept", b"application/json;q=0.1"),
            (b"user-agent", b"x"),
            (b"Accept", b"text/html"),
        ]
    }
    assert accept_header(scope) == "application/json;q=0.1, text/html"
    assert prefers_html(accept_header(scope)) is True


def test_accept_header_missing() -> None:
    assert accept_header({"headers": [(b"host", b"example.org")]}) == ""
    assert accept_header({}) == ""
