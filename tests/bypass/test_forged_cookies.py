"""Bypass cookies that were forged, altered, expired or signed for another secret.

A cookie is ``<issued>.<token>.<mac>``: for ``bypass_secret=s``, with
prk = HMAC-SHA256(b"maintenance-bypass-v2", s), the token is
HMAC-SHA256(prk, b"cookie token\x01") and the MAC
HMAC-SHA256(HMAC-SHA256(prk, b"cookie key\x01"), b"maintenance-bypass-v2 cookie\x00"
+ issued + b"." + token), both in unpadded urlsafe base64. The MAC key is in
no cookie; a cookie lives until issued + the current max age.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import pytest
from maintenance_core.bypass import (
    CLOCK_SKEW,
    DEFAULT_COOKIE_MAX_AGE,
    BypassKey,
    hash_secret,
)

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET, cookie_for, stored_cookie

pytestmark = pytest.mark.anyio

KEY = BypassKey.from_secret(SECRET)
CONTEXT = b"maintenance-bypass-v2"
MAC_CONTEXT = b"maintenance-bypass-v2 cookie\x00"


def hkdf(secret: bytes, info: bytes) -> bytes:
    prk = hmac.new(CONTEXT, secret, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


SERVER_KEY = hkdf(SECRET.encode(), b"cookie key")  # what only the server derives


def now() -> int:
    return int(time.time())


def valid() -> str:
    return cookie_for(SECRET)


def split(cookie: str) -> tuple[str, str, str]:
    issued, token, mac = cookie.split(".")
    return issued, token, mac


def flip(text: str, index: int) -> str:
    chars = list(text)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, issued: int | str, token_text: str) -> str:
    """The documented MAC of a cookie issued at *issued* carrying *token_text*."""
    message = MAC_CONTEXT + str(issued).encode() + b"." + token_text.encode()
    return b64(hmac.new(key, message, hashlib.sha256).digest())


async def status_with_cookie(app: Any, cookie: str | bytes, path: str = "/items") -> int:
    header = cookie if isinstance(cookie, bytes) else cookie.encode("latin-1")
    async with client_for(app) as client:
        response = await client.get(path, headers={"Cookie": header})
        # A refused cookie never earns a new one.
        assert "set-cookie" not in response.headers
        return response.status_code


def with_token(token_text: str) -> str:
    """A valid cookie with its token replaced by *token_text*, the MAC kept."""
    issued, _, mac = split(valid())
    return f"{issued}.{token_text}.{mac}"


def self_signed(token_text: str) -> str:
    """A cookie carrying *token_text*, its MAC made with that token as the key: what a
    holder of a cookie could do when the token was the key."""
    issued = now()
    return f"{issued}.{token_text}.{sign(unb64(token_text), issued, token_text)}"


def old_recipe(token_text: str, expires: int) -> str:
    """The earlier format, ``<expiry>.<token>.<HMAC(token, expiry)>``."""
    signature = hmac.new(unb64(token_text), str(expires).encode(), hashlib.sha256).digest()
    return f"{expires}.{token_text}.{b64(signature)}"


def with_issued(issued: int) -> str:
    """A cookie issued at *issued*, correctly signed with SECRET's key."""
    return cookie_for(SECRET, issued=issued)


def resigned(issued: int | str) -> str:
    """Our token, an issue time the MAC was not made for, the old MAC."""
    _, token, mac = split(valid())
    return f"{issued}.{token}.{mac}"


def other_token_our_mac() -> str:
    issued, token, _ = split(cookie_for(OTHER_SECRET))
    return f"{issued}.{token}.{split(with_issued(int(issued)))[2]}"


def our_token_other_mac() -> str:
    issued, _, mac = split(cookie_for(OTHER_SECRET))
    return f"{issued}.{split(with_issued(int(issued)))[1]}.{mac}"


def keyed_with(key: bytes) -> str:
    """A cookie with the real token, its MAC made with *key*."""
    issued, token = now(), split(valid())[1]
    return f"{issued}.{token}.{sign(key, issued, token)}"


def aged(age: int) -> str:
    """A correctly signed cookie of SECRET issued *age* seconds ago."""
    return cookie_for(SECRET, age=age)


FORGERIES: dict[str, Callable[[], str | bytes]] = {
    "random": lambda: "maintenance_bypass=hello-there",
    "empty": lambda: "maintenance_bypass=",
    "right-format-wrong-mac": lambda: f"maintenance_bypass={now()}.{split(valid())[1]}.{'A' * 43}",
    "right-format-wrong-token": lambda: f"maintenance_bypass={now()}.{'A' * 43}.{'A' * 43}",
    "mac-flipped-start": lambda: f"maintenance_bypass={flip(valid(), -43)}",
    "mac-flipped-end": lambda: f"maintenance_bypass={flip(valid(), -1)}",
    "mac-truncated": lambda: f"maintenance_bypass={valid()[:-1]}",
    "mac-padded": lambda: f"maintenance_bypass={valid()}=",
    "mac-empty": lambda: "maintenance_bypass={}.{}.".format(*split(valid())[:2]),
    "token-flipped-start": lambda: f"maintenance_bypass={with_token(flip(split(valid())[1], 0))}",
    # The attack run's forgery: the real token, re-signed with itself.
    "real-token-resigned-with-itself": lambda: (
        f"maintenance_bypass={self_signed(split(valid())[1])}"
    ),
    "real-token-earlier-recipe": lambda: (
        f"maintenance_bypass={old_recipe(split(valid())[1], now() + 600)}"
    ),
    "token-flipped-start-resigned": lambda: (
        f"maintenance_bypass={self_signed(flip(split(valid())[1], 0))}"
    ),
    "token-truncated-resigned": lambda: f"maintenance_bypass={self_signed(split(valid())[1][:-3])}",
    "token-empty": lambda: f"maintenance_bypass={self_signed('')}",
    "token-missing": lambda: "maintenance_bypass={0}.{2}".format(*split(valid())),
    "token-and-mac-swapped": lambda: "maintenance_bypass={0}.{2}.{1}".format(*split(valid())),
    "other-secrets-token-our-mac": lambda: f"maintenance_bypass={other_token_our_mac()}",
    "our-token-other-secrets-mac": lambda: f"maintenance_bypass={our_token_other_mac()}",
    "the-secret-as-token": lambda: f"maintenance_bypass={self_signed(b64(SECRET.encode()))}",
    "the-secret-as-key": lambda: f"maintenance_bypass={keyed_with(SECRET.encode())}",
    "issued-plus-one": lambda: f"maintenance_bypass={resigned(int(split(valid())[0]) + 1)}",
    "issued-minus-one": lambda: f"maintenance_bypass={resigned(int(split(valid())[0]) - 1)}",
    "issued-moved-a-year-on": lambda: (
        f"maintenance_bypass={resigned(int(split(valid())[0]) + 365 * 86400)}"
    ),
    "other-secret": lambda: f"maintenance_bypass={cookie_for(OTHER_SECRET)}",
    "stored-secrets-cookie": lambda: (
        f"maintenance_bypass={stored_cookie(hash_secret(SECRET), SECRET)}"
    ),
    "expired-just-now": lambda: f"maintenance_bypass={aged(DEFAULT_COOKIE_MAX_AGE)}",
    "expired-a-minute-ago": lambda: f"maintenance_bypass={aged(DEFAULT_COOKIE_MAX_AGE + 60)}",
    "expired-long-ago": lambda: f"maintenance_bypass={with_issued(1)}",
    "issued-zero": lambda: f"maintenance_bypass={with_issued(0)}",
    "issued-beyond-the-clock-skew": lambda: (
        f"maintenance_bypass={with_issued(now() + CLOCK_SKEW + 60)}"
    ),
    "issued-max-twelve-digits": lambda: f"maintenance_bypass={with_issued(10**12 - 1)}",
    "issued-thirteen-digits": lambda: f"maintenance_bypass={with_issued(10**12)}",
    "non-digit-issued": lambda: f"maintenance_bypass={resigned('17a9999999')}",
    "negative-issued": lambda: f"maintenance_bypass={resigned(-1)}",
    "plus-sign-issued": lambda: f"maintenance_bypass=+{valid()}",
    "space-in-issued": lambda: f"maintenance_bypass= {valid()}",
    "unicode-digits": lambda: f"maintenance_bypass={resigned('١٧٩٩٩٩٩٩٩٩')}".encode(),
    "huge-issued": lambda: f"maintenance_bypass={resigned('9' * 400)}",
    "huge-value": lambda: f"maintenance_bypass={valid()}{'A' * 8000}",
    "missing-dots": lambda: "maintenance_bypass=" + valid().replace(".", ""),
    "four-parts": lambda: f"maintenance_bypass={valid()}.extra",
    "empty-fourth-part": lambda: f"maintenance_bypass={valid()}.",
    "the-secret-itself": lambda: f"maintenance_bypass={SECRET}",
    "quoted": lambda: f'maintenance_bypass="{valid()}"',
    "name-uppercase": lambda: f"MAINTENANCE_BYPASS={valid()}",
    "name-prefixed": lambda: f"xmaintenance_bypass={valid()}",
    "name-suffixed": lambda: f"maintenance_bypass_={valid()}",
    "name-spaced": lambda: f"maintenance_bypass ={valid()}",
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_cookie_is_refused(framework: str, forge: Callable[[], str | bytes]) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status_with_cookie(app, forge()) == 503


async def test_minted_cookie_is_accepted(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status_with_cookie(app, f"maintenance_bypass={valid()}") == 200
    # Among other cookies, in any position.
    assert await status_with_cookie(app, f"a=1; maintenance_bypass={valid()}; b=2") == 200
    # One forged and one valid cookie of that name: the valid one counts.
    both = f"maintenance_bypass=forged; maintenance_bypass={valid()}"
    assert await status_with_cookie(app, both) == 200


async def test_cookie_in_a_second_cookie_header(framework: str) -> None:
    # HTTP/2 clients may split cookies over several headers.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get(
            "/items", headers=[("Cookie", "a=1"), ("Cookie", f"maintenance_bypass={valid()}")]
        )
    assert response.status_code == 200


async def test_a_cookie_just_inside_its_max_age_passes_and_one_just_past_it_does_not(
    framework: str,
) -> None:
    # By the wall clock; the exact boundary, with a clock moved by hand, is
    # tests/bypass/test_cookie_keys.py::test_a_cookie_is_accepted_until_it_expires_and_not_after.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    young, old = aged(DEFAULT_COOKIE_MAX_AGE - 30), aged(DEFAULT_COOKIE_MAX_AGE)
    assert await status_with_cookie(app, f"maintenance_bypass={young}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={old}") == 503


async def test_the_forgers_tools_work_with_the_servers_key(framework: str) -> None:
    # Control for the forgeries above: the same recipes, run with the key only the
    # server derives from the secret, or putting the real MAC back with its own issue
    # time, make cookies that are accepted. So the forgeries are refused for what they
    # changed or the key they lacked, not because the helpers are wrong.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    issued, token, _ = split(valid())
    fresh = now() - 10
    assert (
        await status_with_cookie(
            app, f"maintenance_bypass={fresh}.{token}.{sign(SERVER_KEY, fresh, token)}"
        )
        == 200
    )
    assert await status_with_cookie(app, f"maintenance_bypass={resigned(issued)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={aged(60)}") == 200


async def test_cookie_value_in_the_header_is_refused(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get("/items", headers={"X-Maintenance-Bypass": valid()})
    assert response.status_code == 503


async def test_redirect_cookie_is_the_documented_format() -> None:
    # Computed here from the documented recipe, not with the library's helpers: the
    # token and the key depend only on the secret, the MAC on the key, time and token.
    app = build("fastapi", enable_maintenance=True, bypass_secret=SECRET)
    before = now()
    async with client_for(app) as client:
        response = await client.get(f"/items?maintenance_bypass={SECRET}")
    value = response.cookies["maintenance_bypass"]
    issued, token, mac = split(value)
    assert before <= int(issued) <= now()
    assert token == b64(hkdf(SECRET.encode(), b"cookie token"))
    assert mac == sign(SERVER_KEY, issued, token)
    # Neither the secret nor the key is in the cookie.
    for secret in (SECRET.encode(), SERVER_KEY):
        assert b64(secret) not in value
    assert SECRET not in value


async def test_cookie_works_across_apps_with_the_same_secret() -> None:
    minting = build("fastapi", enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(minting) as client:
        response = await client.get(f"/items?maintenance_bypass={SECRET}")
    cookie = f"maintenance_bypass={response.cookies['maintenance_bypass']}"
    for framework in ("fastapi", "litestar"):
        other = build(framework, enable_maintenance=True, bypass_secret=SECRET)
        assert await status_with_cookie(other, cookie) == 200, framework


async def test_cookie_from_before_the_secret_was_rotated_is_refused(framework: str) -> None:
    before = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(before) as browser:
        await browser.get(f"/items?maintenance_bypass={SECRET}")
        cookie = f"maintenance_bypass={browser.cookies['maintenance_bypass']}"
        assert (await browser.get("/items")).status_code == 200
    after = build(framework, enable_maintenance=True, bypass_secret=OTHER_SECRET)
    assert await status_with_cookie(after, cookie) == 503
    # The new secret works, through the header and a new cookie.
    async with client_for(after) as browser:
        assert (
            await browser.get("/items", headers={"X-Maintenance-Bypass": SECRET})
        ).status_code == 503
        assert (await browser.get(f"/items?maintenance_bypass={OTHER_SECRET}")).status_code == 302
        assert (await browser.get("/items")).status_code == 200


async def test_forged_cookie_is_irrelevant_while_maintenance_is_off(framework: str) -> None:
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET)
    assert await status_with_cookie(app, "maintenance_bypass=forged") == 200


async def test_no_secret_configured_accepts_no_cookie(framework: str) -> None:
    app = build(framework, enable_maintenance=True)
    assert await status_with_cookie(app, f"maintenance_bypass={valid()}") == 503


# --- a cookie lives until issued + the current bypass_cookie_max_age ---------------------


@pytest.mark.parametrize(
    ("issued", "accepted"),
    [
        (1000, True),  # issued now
        (941, True),  # 59 seconds ago
        (940, False),  # issued + max_age == now: expired
        (0, False),
        (1000 + CLOCK_SKEW, True),  # another host's clock a little ahead
        (1000 + CLOCK_SKEW + 1, False),
        (10**12 - 1, False),
    ],
)
def test_accepts_cookie_takes_an_issue_time_less_than_max_age_ago(
    issued: int, accepted: bool
) -> None:
    stored = hash_secret(SECRET)
    for key in (KEY, BypassKey.from_hash(stored)):
        value = key.cookie(SECRET.encode(), issued)
        assert value is not None
        assert key.accepts_cookie(value.encode(), 1000.0, 60) is accepted, key
    # The same cookie with a longer max age lives longer, never before its issue.
    value = KEY.cookie(SECRET.encode(), issued)
    assert value is not None
    assert KEY.accepts_cookie(value.encode(), 1000.0, 10**7) is (issued <= 1000 + CLOCK_SKEW)


async def test_cookie_older_than_max_age_is_refused(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=60)
    assert await status_with_cookie(app, f"maintenance_bypass={aged(30)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={aged(55)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={aged(60)}") == 503
    assert await status_with_cookie(app, f"maintenance_bypass={aged(90)}") == 503
    assert await status_with_cookie(app, f"maintenance_bypass={aged(10**9)}") == 503
    # What the app itself issues fits: its own redirect's cookie is accepted.
    async with client_for(app) as browser:
        assert (await browser.get(f"/items?maintenance_bypass={SECRET}")).status_code == 302
        assert (await browser.get("/items")).status_code == 200


# --- one cookie, one spelling ---------------------------------------------------------------


def respell_token_last_char(cookie: str) -> str:
    # 32 bytes take 43 base64 characters, the last one carrying 2 unused low bits:
    # another character with the same 4 high bits decodes to the same token.
    issued, token, mac = split(cookie)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(token[-1])
    other = alphabet[index ^ 1]
    return f"{issued}.{token[:-1]}{other}.{mac}"


def respell_token_std_alphabet(cookie: str) -> str:
    issued, token, mac = split(cookie)
    return f"{issued}.{token.replace('-', '+').replace('_', '/')}.{mac}"


def token_with_junk(cookie: str) -> str:
    issued, token, mac = split(cookie)
    return f"{issued}.{token[:8]}!*{token[8:]}.{mac}"


def token_padded(cookie: str) -> str:
    issued, token, mac = split(cookie)
    return f"{issued}.{token}=.{mac}"


def issued_leading_zero(cookie: str) -> str:
    return f"0{cookie}"


RESPELLINGS: dict[str, Callable[[str], str]] = {
    "token-last-char-unused-bits": respell_token_last_char,
    "token-standard-base64-alphabet": respell_token_std_alphabet,
    "token-with-non-base64-characters": token_with_junk,
    "token-padded": token_padded,
    "issued-leading-zero": issued_leading_zero,
}


async def test_a_cookie_has_one_spelling(framework: str) -> None:
    """Only the exact value the redirect sets is accepted: the token is read with strict
    base64 (no padding, no '+'/'/', no junk, no unused low bits set) and the issue
    time without leading zeros, and the MAC covers both fields as sent. No access
    would be gained by a respelling (each needs the real token and MAC), but a value
    blocked by a proxy or a WAF could be reopened by respelling it."""
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    cookie = valid()
    # SECRET's token holds a '-' or '_', so its standard-alphabet spelling differs.
    assert {"-", "_"} & set(split(cookie)[1])
    assert await status_with_cookie(app, f"maintenance_bypass={cookie}") == 200
    accepted = []
    for name, respell in RESPELLINGS.items():
        variant = respell(cookie)
        assert variant != cookie, name
        if await status_with_cookie(app, f"maintenance_bypass={variant}") != 503:
            accepted.append(f"{name}: {variant}")
    assert not accepted, "respelled cookies accepted:\n" + "\n".join(accepted)
