"""What signs a bypass cookie, and how long a cookie lives.

The attack run's finding: a cookie carried the token that was also its MAC key,
and the expiry was only capped at now + max age, so one cookie (even expired)
signed fresh ones forever, and storing the same secret again revived old ones.
A cookie is now ``<issued>.<token>.<mac>``, the MAC made with a key the cookie
does not carry (HKDF of ``bypass_secret=``; for a stored secret, a random key
stored with it, new each time), and it lives until issued + the *current* max age.

The recipes are computed here by hand, from the documented formats:

- ``bypass_secret=s``: prk = HMAC-SHA256(b"maintenance-bypass-v2", s); the cookie
  key is HMAC-SHA256(prk, b"cookie key\\x01"), the token HMAC-SHA256(prk, b"cookie token\\x01");
- the MAC is HMAC-SHA256(cookie key, b"maintenance-bypass-v2 cookie\\x00" + issued + b"." + token),
  token and MAC in unpadded urlsafe base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from maintenance_core.backends import LocalFileBackend
from maintenance_core.bypass import BypassKey, BypassPolicy, hash_secret
from maintenance_core.state import MaintenanceState

from tests.support.servers import ROOT

from .apps import FRAMEWORKS, build, client_for
from .conftest import OTHER_SECRET, SECRET, cookie_for, stored_cookie

pytestmark = pytest.mark.anyio

sha256 = hashlib.sha256
CONTEXT = b"maintenance-bypass-v2"
MAC_CONTEXT = b"maintenance-bypass-v2 cookie\x00"
HEADER = "X-Maintenance-Bypass"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None


def hkdf(secret: bytes, info: bytes) -> bytes:
    prk = hmac.new(CONTEXT, secret, sha256).digest()
    return hmac.new(prk, info + b"\x01", sha256).digest()


def mac(key: bytes, issued: int, token_text: str) -> str:
    message = MAC_CONTEXT + str(issued).encode() + b"." + token_text.encode()
    return b64(hmac.new(key, message, sha256).digest())


def key_material(cookie: str) -> list[bytes]:
    """Everything a holder of *cookie* can take as a MAC key: each field as text and
    decoded, the whole value, and what one HMAC, SHA-256 or HKDF step makes of each."""
    pieces = [cookie.encode()]
    for field in cookie.split("."):
        pieces.append(field.encode())
        decoded = unb64(field)
        if decoded:
            pieces.append(decoded)
    derived = list(pieces)
    for piece in pieces:
        derived += [
            hmac.new(piece, CONTEXT, sha256).digest(),
            hmac.new(CONTEXT, piece, sha256).digest(),
            sha256(piece).digest(),
            hkdf(piece, b"cookie key"),
            hmac.new(piece, b"cookie key\x01", sha256).digest(),
        ]
    return derived


def forgeries(cookie: str, times: list[int]) -> list[str]:
    """Cookies a holder of *cookie* makes for other times: its token kept, the MAC
    recomputed with every key they hold, by this format's recipe and by the earlier
    one (HMAC(key, str(expiry)) over ``<expiry>.<token>.<signature>``)."""
    token = cookie.split(".")[1]
    attempts = []
    for key in key_material(cookie):
        for when in times:
            attempts.append(f"{when}.{token}.{mac(key, when, token)}")
            earlier = b64(hmac.new(key, str(when).encode(), sha256).digest())
            attempts.append(f"{when}.{token}.{earlier}")
    return attempts


async def status(app: Any, headers: Any = None) -> int:
    async with client_for(app) as client:
        response = await client.get("/items", headers=headers)
        if response.status_code != 200:
            assert "set-cookie" not in response.headers
        return response.status_code


async def with_cookie(app: Any, cookie: str) -> int:
    return await status(app, {"Cookie": f"maintenance_bypass={cookie}"})


async def with_cookies(app: Any, cookies: list[str]) -> int:
    header = "; ".join(f"maintenance_bypass={cookie}" for cookie in cookies)
    return await status(app, {"Cookie": header})


async def mint_cookie(app: Any, secret: str) -> str:
    """The cookie the app's redirect sets for ``?maintenance_bypass=<secret>``."""
    async with client_for(app) as browser:
        response = await browser.get(f"/items?maintenance_bypass={secret}")
        assert response.status_code == 302, response.text
        return str(response.cookies["maintenance_bypass"])


def file_app(framework: str, path: Path, **options: Any) -> Any:
    return build(framework, backend=LocalFileBackend(path, check_interval=0), **options)


# --- a cookie cannot make another --------------------------------------------------------


async def test_a_cookie_cannot_mint_another(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    cookie = await mint_cookie(app, SECRET)
    assert await with_cookie(app, cookie) == 200
    now = int(time.time())
    attempts = forgeries(cookie, [now - 5, now + 30])
    assert len(attempts) > 100
    for start in range(0, len(attempts), 100):
        batch = attempts[start : start + 100]
        assert await with_cookies(app, batch) == 503, "a cookie made from a cookie is accepted"
    # Control: the recipe is right, it only needs the key no cookie carries.
    key = hkdf(SECRET.encode(), b"cookie key")
    token = cookie.split(".")[1]
    assert await with_cookie(app, f"{now - 5}.{token}.{mac(key, now - 5, token)}") == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_stored_secrets_cookie_cannot_mint_another(framework: str, tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    app = file_app(framework, path)
    cookie = await mint_cookie(app, SECRET)
    assert await with_cookie(app, cookie) == 200
    now = int(time.time())
    attempts = forgeries(cookie, [now - 5, now + 30])
    for start in range(0, len(attempts), 100):
        batch = attempts[start : start + 100]
        assert await with_cookies(app, batch) == 503, "a cookie made from a cookie is accepted"


def test_an_expired_cookie_cannot_mint_a_fresh_one() -> None:
    max_age = 600
    issued = 1_800_000_000
    clock = Clock(issued)
    policy = BypassPolicy(SECRET, cookie_max_age=max_age, clock=clock)
    keys = policy.keys(None)
    cookie = issue(policy, keys, SECRET)
    clock.now = issued + 30 * 86400  # a month later: long expired
    assert not passes(policy, keys, cookie)
    attempts = forgeries(cookie, [int(clock.now) - 5, int(clock.now)])
    assert not [a for a in attempts if passes(policy, keys, a)]
    # Control: the server's key makes a fresh one.
    token, when = cookie.split(".")[1], int(clock.now)
    fresh = f"{when}.{token}.{mac(hkdf(SECRET.encode(), b'cookie key'), when, token)}"
    assert passes(policy, keys, fresh)


# --- the cookie's life -----------------------------------------------------------------------


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def scope(cookie: str | None = None, query: str = "") -> dict[str, Any]:
    headers = [] if cookie is None else [(b"cookie", f"maintenance_bypass={cookie}".encode())]
    return {
        "type": "http",
        "scheme": "http",
        "path": "/items",
        "raw_path": b"/items",
        "query_string": query.encode(),
        "headers": headers,
    }


def passes(policy: BypassPolicy, keys: Any, cookie: str) -> bool:
    return policy.lets_through(scope(cookie), keys)


def issue(policy: BypassPolicy, keys: Any, secret: str) -> str:
    """The cookie *policy* sets for ``?maintenance_bypass=<secret>``, at its clock's time."""
    redirect = policy.cookie_redirect(scope(query=f"maintenance_bypass={secret}"), keys)
    assert redirect is not None
    headers = dict(redirect)
    value = headers[b"set-cookie"].decode().split(";")[0].partition("=")[2]
    assert value.split(".")[0] == str(int(policy.clock()))
    return value


@pytest.mark.parametrize("stored", [False, True], ids=["bypass_secret", "stored"])
def test_a_cookie_is_accepted_until_it_expires_and_not_after(stored: bool) -> None:
    issued = 1_800_000_000
    clock = Clock(issued + 0.75)  # issued at the whole second before
    policy = BypassPolicy(None if stored else SECRET, cookie_max_age=600, clock=clock)
    keys = policy.keys(BypassKey.from_hash(hash_secret(SECRET)) if stored else None)
    cookie = issue(policy, keys, SECRET)
    assert cookie.startswith(f"{issued}.")
    for now, accepted in [
        (issued, True),
        (issued + 1, True),
        (issued + 599, True),
        (issued + 599.999, True),
        (issued + 600, False),  # issued + max age: expired
        (issued + 601, False),
        (issued + 10**6, False),
        (issued - 60, True),  # another host's clock a minute behind
        (issued - 61, False),  # issued further in the future than the clock skew
    ]:
        clock.now = now
        assert passes(policy, keys, cookie) is accepted, now


def test_lowering_max_age_shortens_cookies_already_issued() -> None:
    issued = 1_800_000_000
    clock = Clock(issued)
    first = BypassPolicy(SECRET, cookie_max_age=3600, clock=clock)
    cookie = issue(first, first.keys(None), SECRET)
    # Redeployed with a shorter max age: the cookie lives issued + 600, not + 3600.
    shorter = BypassPolicy(SECRET, cookie_max_age=600, clock=clock)
    for now, accepted in [(issued + 300, True), (issued + 599, True), (issued + 600, False)]:
        clock.now = now
        assert passes(shorter, shorter.keys(None), cookie) is accepted, now
        assert passes(first, first.keys(None), cookie) is True, now
    clock.now = issued + 3600
    assert not passes(first, first.keys(None), cookie)


async def test_a_shorter_max_age_keeps_a_fresh_cookie(framework: str) -> None:
    # Through the apps: a cookie issued a moment ago by an app with a long max age is
    # still young for a redeployed app with a shorter one, so it is accepted there.
    issuing = build(
        framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=3600
    )
    cookie = await mint_cookie(issuing, SECRET)
    shorter = build(
        framework, enable_maintenance=True, bypass_secret=SECRET, bypass_cookie_max_age=600
    )
    assert await with_cookie(shorter, cookie) == 200
    # One issued 700 seconds ago is older than the shorter max age: refused there only.
    older = cookie_for(SECRET, age=700)
    assert await with_cookie(issuing, older) == 200
    assert await with_cookie(shorter, older) == 503


# --- storing a secret again, rotating it -----------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_storing_the_same_secret_again_revokes_earlier_cookies(
    framework: str, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    writer = LocalFileBackend(path)
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    app = file_app(framework, path)
    first = await mint_cookie(app, SECRET)
    assert await with_cookie(app, first) == 200
    # Rotated away and back: the first cookie must not come back to life.
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    assert await with_cookie(app, first) == 503
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    assert await with_cookie(app, first) == 503, "re-storing the secret revived a cookie"
    # Stored again directly, without a rotation in between: the same.
    second = await mint_cookie(app, SECRET)
    assert await with_cookie(app, second) == 200
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    assert await with_cookie(app, second) == 503
    # The secret itself still works, and makes new cookies.
    assert await status(app, {HEADER: SECRET}) == 200
    assert await with_cookie(app, await mint_cookie(app, SECRET)) == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_stored_and_a_given_secret_sign_with_different_keys(
    framework: str, tmp_path: Path
) -> None:
    """The same secret given to the middleware and stored with the state makes two
    keys: a cookie of one is not a cookie of the other (a stored key must change when
    the secret is stored again, a given key must not change between processes)."""
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    stored_app = file_app(framework, path)
    given_app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    from_stored = await mint_cookie(stored_app, SECRET)
    from_given = await mint_cookie(given_app, SECRET)
    assert await with_cookie(stored_app, from_stored) == 200
    assert await with_cookie(given_app, from_given) == 200
    assert await with_cookie(given_app, from_stored) == 503
    assert await with_cookie(stored_app, from_given) == 503
    # An app with both takes both.
    both = file_app(framework, path, bypass_secret=SECRET)
    assert await with_cookie(both, from_stored) == 200
    assert await with_cookie(both, from_given) == 200


# --- several processes -----------------------------------------------------------------------

OTHER_PROCESS = """
import json, sys
from maintenance_core.backends import LocalFileBackend
from starlette.testclient import TestClient
from tests.bypass.apps import build

secret, path = sys.argv[1], sys.argv[2]
cookies = {}
for name, app in (
    ("given", build("fastapi", enable_maintenance=True, bypass_secret=secret)),
    ("stored", build("litestar", backend=LocalFileBackend(path, check_interval=0))),
):
    with TestClient(app, follow_redirects=False) as client:
        response = client.get("/items?maintenance_bypass=" + secret)
        assert response.status_code == 302, response.status_code
        cookies[name] = response.cookies["maintenance_bypass"]
print(json.dumps(cookies))
"""


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_cookies_from_another_process_are_accepted(framework: str, tmp_path: Path) -> None:
    # Workers and hosts share cookies: one given the same bypass_secret, or reading the
    # same state, accepts a cookie another process issued (nothing per process signs).
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [sys.executable, "-c", OTHER_PROCESS, SECRET, os.fspath(path)], cwd=ROOT, check=False
        )
    assert done.returncode == 0, done.stderr.decode()
    cookies = json.loads(done.stdout)
    given = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await with_cookie(given, cookies["given"]) == 200
    assert await with_cookie(file_app(framework, path), cookies["stored"]) == 200
    other = build(framework, enable_maintenance=True, bypass_secret=OTHER_SECRET)
    assert await with_cookie(other, cookies["given"]) == 503


# --- what the state and a cookie give together -------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_state_and_a_cookie_together_can_mint_until_the_secret_is_stored_again(
    framework: str, tmp_path: Path
) -> None:
    """The documented limit: whoever reads the state (its cookie key) *and* holds one
    cookie of that stored secret (its token) can make cookies. Storing the secret
    again (a new random key) ends it."""
    path = tmp_path / "state.json"
    writer = LocalFileBackend(path)
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    app = file_app(framework, path)
    cookie = await mint_cookie(app, SECRET)
    cookie_key = base64.urlsafe_b64decode(
        json.loads(path.read_text())["bypass"].split("$")[-1] + "="
    )
    token = cookie.split(".")[1]
    now = int(time.time())
    minted = f"{now - 1}.{token}.{mac(cookie_key, now - 1, token)}"
    assert await with_cookie(app, minted) == 200
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    assert await with_cookie(app, minted) == 503
    fresh = stored_cookie(json.loads(path.read_text())["bypass"], SECRET)
    assert await with_cookie(app, fresh) == 200
