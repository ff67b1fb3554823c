"""``?maintenance_bypass=<secret>``: a redirect that sets the signed bypass cookie."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET

pytestmark = pytest.mark.anyio

PARAM = "maintenance_bypass"
# <issued>.<token>.<mac>, both unpadded urlsafe base64 of 32 bytes.
COOKIE_VALUE = re.compile(r"^(\d{1,12})\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$")
DEFAULT_MAX_AGE = 12 * 3600

# Needs percent-encoding in a query: space, '+', '&', '=', '%', '#', '/', '?', ';', '@'.
SPECIAL = "p@ss w+rd&k=v%25#x/y?z;Q7vR2xN9"


def bypass_cookie(response: httpx.Response) -> tuple[str, list[str]]:
    """The value and attributes of the one ``Set-Cookie`` header of *response*."""
    [header] = response.headers.get_list("set-cookie")
    first, *attributes = header.split("; ")
    name, _, value = first.partition("=")
    assert name == "maintenance_bypass"
    return value, attributes


def assert_no_redirect(response: httpx.Response) -> None:
    assert "set-cookie" not in response.headers
    assert "location" not in response.headers


async def get(app: Any, url: str, base_url: str = "http://testserver") -> httpx.Response:
    async with client_for(app, base_url) as client:
        return await client.get(url)


async def test_param_answers_a_redirect_setting_the_cookie(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    before = time.time()
    response = await get(app, f"/items?{PARAM}={SECRET}&x=1")
    assert response.status_code == 302
    assert response.headers["location"] == "./items?x=1"
    assert response.headers["cache-control"] == "no-store"
    assert response.content == b""
    value, attributes = bypass_cookie(response)
    assert attributes == [f"Max-Age={DEFAULT_MAX_AGE}", "Path=/", "HttpOnly", "SameSite=Lax"]
    match = COOKIE_VALUE.match(value)
    assert match is not None, value
    issued = int(match.group(1))
    assert int(before) <= issued <= time.time()


async def test_cookie_is_secure_over_https(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    response = await get(app, f"/items?{PARAM}={SECRET}", base_url="https://testserver")
    assert response.status_code == 302
    _, attributes = bypass_cookie(response)
    assert attributes == [
        f"Max-Age={DEFAULT_MAX_AGE}",
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
    ]
    plain = await get(app, f"/items?{PARAM}={SECRET}")
    assert "Secure" not in bypass_cookie(plain)[1]


@pytest.mark.parametrize("base_url", ["http://testserver", "https://testserver"])
async def test_following_the_redirect_with_the_cookie(framework: str, base_url: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app, base_url) as browser:
        first = await browser.get(f"/items?{PARAM}={SECRET}&x=1")
        assert first.status_code == 302
        target = first.url.join(first.headers["location"])
        assert str(target) == f"{base_url}/items?x=1"
        landed = await browser.get(target)  # the client's jar sends the cookie
        assert landed.status_code == 200
        assert landed.json() == {"route": "items"}
        assert PARAM not in str(landed.url)
        # The cookie has Path=/: it opens every other route as well.
        for path in ("/a/b/c", "/dir/", "/files/readme.txt"):
            assert (await browser.get(path)).status_code == 200, path
    async with client_for(app, base_url) as stranger:
        assert (await stranger.get("/a/b/c")).status_code == 503


@pytest.mark.parametrize(
    ("url", "location", "target"),
    [
        (f"/a/b/c?{PARAM}={SECRET}", "./c", "/a/b/c"),
        (f"/a/b/c?y=2&{PARAM}={SECRET}", "./c?y=2", "/a/b/c?y=2"),
        (f"/dir/?{PARAM}={SECRET}", "./", "/dir/"),
        (f"/dir/?{PARAM}={SECRET}&z=3", "./?z=3", "/dir/?z=3"),
        (f"/caf%C3%A9?{PARAM}={SECRET}", "./caf%C3%A9", "/caf%C3%A9"),
    ],
    ids=["nested", "nested-query", "trailing-slash", "trailing-slash-query", "percent-path"],
)
async def test_location_is_the_last_segment(
    framework: str, url: str, location: str, target: str
) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as browser:
        response = await browser.get(url)
        assert response.status_code == 302
        assert response.headers["location"] == location
        followed = response.url.join(location)
        assert followed.raw_path.decode() == target
        assert (await browser.get(followed)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/files//evil.example",
        "/files/%2F%2Fevil.example",
        "/files/%5C%5Cevil.example",
        "/files/javascript:alert(1)",
        "/files/@evil.example",
        "/files/..%2F..%2Fevil",
        "/files/https:%2F%2Fevil.example",
        "/files/\\\\evil.example",  # raw backslashes
    ],
)
async def test_location_never_leaves_the_site(framework: str, path: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    response = await get(app, f"{path}?{PARAM}={SECRET}&next=https://evil.example/")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("./"), location
    # Browsers read a backslash in an http(s) URL as a slash: resolve it that way.
    target = response.url.join(location.replace("\\", "/"))
    assert (target.scheme, target.host) == ("http", "testserver")
    assert target.path.startswith("/files/")
    assert SECRET not in location


async def test_only_the_param_is_dropped(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    response = await get(app, f"/items?a=1&{PARAM}={SECRET}&b=&c&q=a%20b+c&&d=%26")
    assert response.status_code == 302
    assert response.headers["location"] == "./items?a=1&b=&c&q=a%20b+c&d=%26"


async def test_param_given_twice_one_right(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    url = f"/items?{PARAM}={OTHER_SECRET}&x=1&{PARAM}={SECRET}&y=2"
    response = await get(app, url)
    assert response.status_code == 302
    # Both values are dropped: neither the wrong nor the right one stays in the URL.
    assert response.headers["location"] == "./items?x=1&y=2"


@pytest.mark.parametrize(
    "encode",
    [lambda s: quote(s, safe=""), quote_plus],
    ids=["percent", "plus-for-space"],
)
async def test_param_value_is_form_decoded(framework: str, encode: Any) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SPECIAL)
    async with client_for(app) as browser:
        response = await browser.get(f"/items?x=1&{PARAM}={encode(SPECIAL)}")
        assert response.status_code == 302
        assert response.headers["location"] == "./items?x=1"
        assert (await browser.get("/items")).status_code == 200
    # The header carries the secret as it is.
    async with client_for(app) as client:
        ok = await client.get("/items", headers={"X-Maintenance-Bypass": SPECIAL})
        assert ok.status_code == 200


async def test_raw_plus_in_the_param_is_a_space(framework: str) -> None:
    # Form decoding: a '+' typed into the URL as it is reads as a space, so a secret
    # containing '+' must be percent-encoded (%2B) in the URL. It fails closed.
    secret = "abc+def+ghi+jkl+mno"
    app = build(framework, enable_maintenance=True, bypass_secret=secret)
    raw = await get(app, f"/items?{PARAM}={secret}")
    assert raw.status_code == 503
    assert_no_redirect(raw)
    encoded = await get(app, f"/items?{PARAM}={quote(secret, safe='')}")
    assert encoded.status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        f"{PARAM}={OTHER_SECRET}",
        f"{PARAM}={SECRET[:-1]}",
        f"{PARAM}={SECRET}x",
        f"{PARAM}=",
        PARAM,
        f"{PARAM.upper()}={SECRET}",
        f"x{PARAM}={SECRET}",
        f"{PARAM}x={SECRET}",
        f"{PARAM}[]={SECRET}",
        f"x={SECRET}",
        f"{PARAM}={SECRET};x=1",
    ],
)
async def test_wrong_or_misplaced_param_is_refused_without_cookie(
    framework: str, query: str
) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    response = await get(app, f"/items?{query}")
    assert response.status_code == 503
    assert_no_redirect(response)


# --- a secret in a URL never reaches the app ------------------------------------------


def assert_dropped_param(response: httpx.Response, location: str) -> None:
    assert response.status_code == 302
    assert response.headers["location"] == location
    assert response.headers["cache-control"] == "no-store"
    assert response.content == b""


async def test_param_while_maintenance_is_off_is_dropped_before_the_app(framework: str) -> None:
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get(f"/items?{PARAM}={SECRET}&x=1")
        assert_dropped_param(response, "./items?x=1")
        assert "set-cookie" in response.headers  # a valid secret still gets its cookie
        followed = await client.get("/items?x=1")
    assert followed.status_code == 200
    assert followed.json() == {"route": "items"}


async def test_a_wrong_param_while_maintenance_is_off_is_dropped_without_cookie(
    framework: str,
) -> None:
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET)
    response = await get(app, f"/items?{PARAM}={OTHER_SECRET}")
    assert_dropped_param(response, "./items")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("path", "location"),
    [("/open", "./open"), ("/nope", "./nope")],
    ids=["forced-off-route", "no-route"],
)
async def test_param_on_a_request_that_would_reach_the_app_in_maintenance_is_dropped(
    framework: str, path: str, location: str
) -> None:
    if framework == "litestar" and path == "/nope":
        pytest.skip("Litestar answers 404 before any middleware runs: no app code sees the URL")
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    response = await get(app, f"{path}?{PARAM}={OTHER_SECRET}")
    assert_dropped_param(response, location)


async def test_param_with_a_valid_header_is_dropped_and_the_request_then_passes(
    framework: str,
) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        headers = {"X-Maintenance-Bypass": SECRET}
        response = await client.get(f"/items?{PARAM}={SECRET}", headers=headers)
        assert_dropped_param(response, "./items")
        followed = await client.get("/items", headers=headers)
    assert followed.status_code == 200


async def test_a_parameter_merely_containing_the_name_reaches_the_app(framework: str) -> None:
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET)
    response = await get(app, f"/items?x{PARAM}={SECRET}")
    assert response.status_code == 200
    assert_no_redirect(response)


async def test_without_a_secret_configured_the_param_is_the_apps_own(framework: str) -> None:
    app = build(framework, enable_maintenance=False)
    response = await get(app, f"/items?{PARAM}=anything")
    assert response.status_code == 200
    assert_no_redirect(response)


async def test_cookie_max_age_is_configurable(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=60)
    before = time.time()
    response = await get(app, f"/items?{PARAM}={SECRET}")
    assert response.status_code == 302
    value, attributes = bypass_cookie(response)
    assert attributes[0] == "Max-Age=60"
    match = COOKIE_VALUE.match(value)
    assert match is not None
    # The cookie holds when it was issued; the max age is applied when it is checked.
    assert int(before) <= int(match.group(1)) <= time.time()


@pytest.mark.parametrize(
    "name",
    [
        "maintenance%5Fbypass",
        "maintenance%5fbypass",
        "%6Daintenance_bypass",
        "maintenance_bypas%73",
    ],
)
@pytest.mark.parametrize(
    "noise",
    ["", f"&note={PARAM}", f"&{PARAM}x=1", f"&q=a%20{PARAM}"],
    ids=["alone", "name-in-a-value", "name-as-a-prefix", "name-in-an-encoded-value"],
)
async def test_percent_encoded_param_name_is_handled_consistently(
    framework: str, name: str, noise: str
) -> None:
    """The parameter's name is matched exactly as sent, never percent-decoded: a
    percent-encoded spelling is not the parameter, whatever else the query holds
    (the literal text elsewhere, in a value or another name, changes nothing)."""
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    response = await get(app, f"/items?{name}={SECRET}{noise}")
    assert response.status_code == 503
    assert_no_redirect(response)
    # Control: the name as it is, with the same noise, is the parameter.
    response = await get(app, f"/items?{PARAM}={SECRET}{noise}")
    assert response.status_code == 302
    assert response.headers["location"] == "./items" + (f"?{noise[1:]}" if noise else "")
