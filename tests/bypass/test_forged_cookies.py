"""Bypass cookies that were forged, altered, expired or signed for another secret.

A cookie is ``<expiry>.<token>.<signature>``: the token is
HMAC-SHA256(secret, "maintenance-bypass-cookie-v1"), the signature
HMAC-SHA256(token, str(expiry)), both in unpadded urlsafe base64.
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
    DEFAULT_COOKIE_MAX_AGE,
    BypassKey,
    hash_secret,
    make_cookie_value,
)

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET, cookie_for

pytestmark = pytest.mark.anyio

KEY = BypassKey.from_secret(SECRET)


def future() -> int:
    return int(time.time()) + 3600


def valid() -> str:
    return cookie_for(SECRET, expires=future())


def split(cookie: str) -> tuple[str, str, str]:
    expires, token, signature = cookie.split(".")
    return expires, token, signature


def flip(text: str, index: int) -> str:
    chars = list(text)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(token_text: str, expires: int | str) -> str:
    """The signature an attacker holding *token_text* computes for *expires*."""
    token = base64.urlsafe_b64decode(token_text + "=" * (-len(token_text) % 4))
    return b64(hmac.new(token, str(expires).encode(), hashlib.sha256).digest())


async def status_with_cookie(app: Any, cookie: str | bytes, path: str = "/items") -> int:
    header = cookie if isinstance(cookie, bytes) else cookie.encode("latin-1")
    async with client_for(app) as client:
        response = await client.get(path, headers={"Cookie": header})
        # A refused cookie never earns a new one.
        assert "set-cookie" not in response.headers
        return response.status_code


def with_token(token_text: str) -> str:
    """A valid cookie with its token replaced by *token_text*, the signature kept."""
    expires, _, signature = split(valid())
    return f"{expires}.{token_text}.{signature}"


def self_signed(token_text: str) -> str:
    """A cookie carrying *token_text*, its signature correctly made with that token."""
    expires = future()
    return f"{expires}.{token_text}.{sign(token_text, expires)}"


def with_expiry(expires: int) -> str:
    """A cookie for *expires*, correctly signed with SECRET's token."""
    return make_cookie_value(SECRET.encode(), expires)


def resigned(expires: int | str) -> str:
    """Our token, an expiry the signature was not made for, the old signature."""
    _, token, signature = split(valid())
    return f"{expires}.{token}.{signature}"


def other_token_our_signature() -> str:
    expires, token, _ = split(cookie_for(OTHER_SECRET, expires=future()))
    return f"{expires}.{token}.{split(with_expiry(int(expires)))[2]}"


def our_token_other_signature() -> str:
    expires, _, signature = split(cookie_for(OTHER_SECRET, expires=future()))
    return f"{expires}.{split(with_expiry(int(expires)))[1]}.{signature}"


def signed_for(expires: int) -> str:
    """A correctly signed cookie of SECRET whose expiry is *expires* seconds from now."""
    return with_expiry(int(time.time()) + expires)


FORGERIES: dict[str, Callable[[], str | bytes]] = {
    "random": lambda: "maintenance_bypass=hello-there",
    "empty": lambda: "maintenance_bypass=",
    "right-format-wrong-signature": lambda: (
        f"maintenance_bypass={future()}.{split(valid())[1]}.{'A' * 43}"
    ),
    "right-format-wrong-token": lambda: f"maintenance_bypass={future()}.{'A' * 43}.{'A' * 43}",
    "signature-flipped-start": lambda: f"maintenance_bypass={flip(valid(), -43)}",
    "signature-flipped-end": lambda: f"maintenance_bypass={flip(valid(), -1)}",
    "signature-truncated": lambda: f"maintenance_bypass={valid()[:-1]}",
    "signature-padded": lambda: f"maintenance_bypass={valid()}=",
    "signature-empty": lambda: "maintenance_bypass={}.{}.".format(*split(valid())[:2]),
    "token-flipped-start": lambda: f"maintenance_bypass={with_token(flip(split(valid())[1], 0))}",
    "token-flipped-start-resigned": lambda: (
        f"maintenance_bypass={self_signed(flip(split(valid())[1], 0))}"
    ),
    "token-truncated-resigned": lambda: f"maintenance_bypass={self_signed(split(valid())[1][:-3])}",
    "token-empty": lambda: f"maintenance_bypass={self_signed('')}",
    "token-missing": lambda: "maintenance_bypass={0}.{2}".format(*split(valid())),
    "token-and-signature-swapped": lambda: "maintenance_bypass={0}.{2}.{1}".format(*split(valid())),
    "other-secrets-token-our-signature": lambda: (
        f"maintenance_bypass={other_token_our_signature()}"
    ),
    "our-token-other-secrets-signature": lambda: (
        f"maintenance_bypass={our_token_other_signature()}"
    ),
    "the-secret-as-token": lambda: f"maintenance_bypass={self_signed(b64(SECRET.encode()))}",
    "expiry-plus-one": lambda: f"maintenance_bypass={resigned(int(split(valid())[0]) + 1)}",
    "expiry-minus-one": lambda: f"maintenance_bypass={resigned(int(split(valid())[0]) - 1)}",
    "expiry-extended-a-year": lambda: (
        f"maintenance_bypass={resigned(int(split(valid())[0]) + 365 * 86400)}"
    ),
    "other-secret": lambda: f"maintenance_bypass={cookie_for(OTHER_SECRET, expires=future())}",
    "expired-one-second": lambda: f"maintenance_bypass={signed_for(-1)}",
    "expires-now": lambda: f"maintenance_bypass={signed_for(0)}",
    "expired-long-ago": lambda: f"maintenance_bypass={with_expiry(1)}",
    "expires-zero": lambda: f"maintenance_bypass={with_expiry(0)}",
    # Correctly signed, but issued for longer than bypass_cookie_max_age allows.
    "beyond-max-age-by-a-minute": lambda: (
        f"maintenance_bypass={signed_for(DEFAULT_COOKIE_MAX_AGE + 60)}"
    ),
    "beyond-max-age-a-year": lambda: f"maintenance_bypass={signed_for(365 * 86400)}",
    "max-twelve-digits-signed": lambda: f"maintenance_bypass={with_expiry(10**12 - 1)}",
    "thirteen-digits-signed": lambda: f"maintenance_bypass={with_expiry(10**12)}",
    "non-digit-expiry": lambda: f"maintenance_bypass={resigned('17a9999999')}",
    "negative-expiry": lambda: f"maintenance_bypass={resigned(-1)}",
    "plus-sign-expiry": lambda: f"maintenance_bypass=+{valid()}",
    "space-in-expiry": lambda: f"maintenance_bypass= {valid()}",
    "unicode-digits": lambda: f"maintenance_bypass={resigned('١٧٩٩٩٩٩٩٩٩')}".encode(),
    "huge-expiry": lambda: f"maintenance_bypass={resigned('9' * 400)}",
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


async def test_cookie_expiring_soon_is_accepted_until_it_expires(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(2)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(0)}") == 503


async def test_the_forgers_tools_work_on_the_real_parts(framework: str) -> None:
    # Control for the forgeries above: re-signing the real token, or putting the real
    # signature back with its own expiry, makes a cookie that is accepted. So those
    # forgeries are refused for what they changed, not because the helpers are wrong.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    expires, token, _ = split(valid())
    assert await status_with_cookie(app, f"maintenance_bypass={self_signed(token)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={resigned(expires)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(60)}") == 200


async def test_cookie_value_in_the_header_is_refused(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get("/items", headers={"X-Maintenance-Bypass": valid()})
    assert response.status_code == 503


async def test_redirect_cookie_is_the_documented_format() -> None:
    # Computed here from the documented recipe, not with the library's helpers: the
    # token depends only on the secret, the signature on the token and the expiry.
    app = build("fastapi", enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get(f"/items?maintenance_bypass={SECRET}")
    value = response.cookies["maintenance_bypass"]
    expires, token, signature = split(value)
    expected_token = hmac.new(SECRET.encode(), b"maintenance-bypass-cookie-v1", hashlib.sha256)
    assert token == b64(expected_token.digest())
    expected_signature = hmac.new(expected_token.digest(), expires.encode(), hashlib.sha256)
    assert signature == b64(expected_signature.digest())
    assert value == make_cookie_value(SECRET.encode(), int(expires))
    # The token is one way from the secret: the secret is nowhere in the cookie.
    assert SECRET not in value
    assert b64(SECRET.encode()) not in value


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


# --- the expiry is capped by bypass_cookie_max_age ----------------------------------------


@pytest.mark.parametrize(
    ("expires", "accepted"),
    [
        (1000, False),  # now: expired
        (1001, True),
        (1060, True),  # now + max_age: the longest a cookie issued now can last
        (1061, False),  # later than any cookie issued now
        (1000 + 10**6, False),
        (999, False),
    ],
)
def test_accepts_cookie_takes_an_expiry_between_now_and_max_age(
    expires: int, accepted: bool
) -> None:
    for key in (KEY, BypassKey.from_hash(hash_secret(SECRET))):
        value = make_cookie_value(SECRET.encode(), expires).encode()
        assert key.accepts_cookie(value, 1000.0, 60) is accepted, key
    # The same cookie, checked a little later or with a longer max age, is accepted
    # as long as it has not expired.
    value = make_cookie_value(SECRET.encode(), expires).encode()
    assert KEY.accepts_cookie(value, 999.5, 10**7) is (expires > 999.5)


async def test_cookie_issued_for_longer_than_max_age_is_refused(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=60)
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(30)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(60)}") == 200
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(90)}") == 503
    assert await status_with_cookie(app, f"maintenance_bypass={signed_for(10**9)}") == 503
    # What the app itself issues fits: its own redirect's cookie is accepted.
    async with client_for(app) as browser:
        assert (await browser.get(f"/items?maintenance_bypass={SECRET}")).status_code == 302
        assert (await browser.get("/items")).status_code == 200


async def test_lowering_max_age_shortens_cookies_already_issued(framework: str) -> None:
    issuing = build(
        framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=3600
    )
    async with client_for(issuing) as browser:
        assert (await browser.get(f"/items?maintenance_bypass={SECRET}")).status_code == 302
        cookie = f"maintenance_bypass={browser.cookies['maintenance_bypass']}"
    assert await status_with_cookie(issuing, cookie) == 200
    # Redeployed with a shorter max age: the cookie outlives it, so it is refused...
    shorter = build(
        framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=600
    )
    assert await status_with_cookie(shorter, cookie) == 503
    # ...while a longer max age keeps it (it is still within its own expiry).
    longer = build(
        framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=7200
    )
    assert await status_with_cookie(longer, cookie) == 200


# --- one cookie, one spelling ---------------------------------------------------------------


def respell_token_last_char(cookie: str) -> str:
    # 32 bytes take 43 base64 characters, the last one carrying 2 unused low bits:
    # another character with the same 4 high bits decodes to the same token.
    expires, token, signature = split(cookie)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(token[-1])
    other = alphabet[index ^ 1]
    return f"{expires}.{token[:-1]}{other}.{signature}"


def respell_token_std_alphabet(cookie: str) -> str:
    expires, token, signature = split(cookie)
    return f"{expires}.{token.replace('-', '+').replace('_', '/')}.{signature}"


def token_with_junk(cookie: str) -> str:
    expires, token, signature = split(cookie)
    return f"{expires}.{token[:8]}!*{token[8:]}.{signature}"


def token_padded(cookie: str) -> str:
    expires, token, signature = split(cookie)
    return f"{expires}.{token}=.{signature}"


def expiry_leading_zero(cookie: str) -> str:
    return f"0{cookie}"


RESPELLINGS: dict[str, Callable[[str], str]] = {
    "token-last-char-unused-bits": respell_token_last_char,
    "token-standard-base64-alphabet": respell_token_std_alphabet,
    "token-with-non-base64-characters": token_with_junk,
    "token-padded": token_padded,
    "expiry-leading-zero": expiry_leading_zero,
}


async def test_a_cookie_has_one_spelling(framework: str) -> None:
    """Only the exact value the redirect sets should be accepted, as the signature alone
    was in the earlier design: the token is part of the credential and should be
    compared as sent. ``accepts_cookie`` base64-decodes the token leniently
    (``urlsafe_b64decode`` drops characters outside the alphabet, takes '+' and '/',
    and ignores the unused low bits of the last character) and reads the expiry with
    ``int`` (leading zeros), then checks the decoded values: so each valid cookie has
    many accepted spellings. No access is gained (every spelling needs the real token),
    but a cookie value is not one credential: a value blocked by a proxy or a WAF is
    reopened by respelling it."""
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
