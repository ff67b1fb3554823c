"""Timing-safety smoke test: every secret and cookie check goes through ``hmac.compare_digest``.

``hmac.compare_digest`` is replaced by a spy that records its arguments and
result and delegates to the real function. A behavioural check, not a timing
measurement: it shows the constant-time primitive is on the path for the
header, the cookie and the query parameter, and that what it compares does
not depend on the length of the guess.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from maintenance_core import bypass as bypass_module
from maintenance_core.backends import LocalFileBackend
from maintenance_core.bypass import BypassKey, hash_secret
from maintenance_core.state import MaintenanceState

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET, cookie_for

pytestmark = pytest.mark.anyio

HEADER = "X-Maintenance-Bypass"
DIGEST_SIZE = hashlib.sha256().digest_size
SIGNATURE_SIZE = 43  # unpadded urlsafe base64 of a SHA-256 HMAC


@dataclass
class Spy:
    calls: list[tuple[Any, Any, bool]] = field(default_factory=list)

    def reset(self) -> None:
        self.calls.clear()

    @property
    def results(self) -> list[bool]:
        return [result for _, _, result in self.calls]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    recorder = Spy()
    real = hmac.compare_digest

    def compare_digest(a: Any, b: Any) -> bool:
        result = real(a, b)
        recorder.calls.append((a, b, result))
        return result

    # maintenance_core.bypass uses the hmac module's attribute at call time.
    assert bypass_module.hmac is hmac
    monkeypatch.setattr(bypass_module.hmac, "compare_digest", compare_digest)
    return recorder


def assert_digests_compared(spy: Spy) -> None:
    for a, b, _ in spy.calls:
        assert (len(a), len(b)) == (DIGEST_SIZE, DIGEST_SIZE)
        for secret in (SECRET, OTHER_SECRET):
            assert secret.encode() not in (a, b)


# --- the primitives ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "presented",
    [SECRET, OTHER_SECRET, "", "x", SECRET[:-1], SECRET * 8],
    ids=["right", "wrong", "empty", "one-char", "prefix", "long"],
)
@pytest.mark.parametrize("source", ["from_secret", "from_hash"])
def test_matches_compares_fixed_length_digests(spy: Spy, presented: str, source: str) -> None:
    key = (
        BypassKey.from_secret(SECRET)
        if source == "from_secret"
        else BypassKey.from_hash(hash_secret(SECRET))
    )
    result = key.matches(presented.encode())
    assert result is (presented == SECRET)
    assert spy.results == [result]
    assert_digests_compared(spy)


def flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


@pytest.mark.parametrize("source", ["from_secret", "from_hash"])
def test_accepts_cookie_compares_the_token_and_the_signature(spy: Spy, source: str) -> None:
    # A cookie is <expiry>.<token>.<signature>: the token's digest and the signature are
    # both compared with compare_digest, each time, whichever of them is wrong.
    key = (
        BypassKey.from_secret(SECRET)
        if source == "from_secret"
        else BypassKey.from_hash(hash_secret(SECRET))
    )
    now = time.time()
    good = cookie_for(SECRET, expires=int(now) + 60)
    assert key.accepts_cookie(good.encode(), now, 3600) is True
    assert spy.results == [True, True]  # the token's digest, then the signature
    (a, b, _), (c, d, _) = spy.calls
    assert (len(a), len(b)) == (DIGEST_SIZE, DIGEST_SIZE)
    assert (len(c), len(d)) == (SIGNATURE_SIZE, SIGNATURE_SIZE)

    spy.reset()
    assert key.accepts_cookie(flip_last(good).encode(), now, 3600) is False
    assert spy.results == [True, False]  # right token, wrong signature

    spy.reset()
    # Another secret's token, correctly signed with it: the signature checks out, the
    # token does not; the token is still compared through its digest.
    other = cookie_for(OTHER_SECRET, expires=int(now) + 60)
    assert key.accepts_cookie(other.encode(), now, 3600) is False
    assert spy.results == [False, True]
    a, b, _ = spy.calls[0]
    assert len(a) == len(b) == DIGEST_SIZE

    # A short signature is still handed to compare_digest, not rejected by its length.
    spy.reset()
    assert key.accepts_cookie(good[:-10].encode(), now, 3600) is False
    assert spy.results == [True, False]
    assert len(spy.calls[1][1]) == SIGNATURE_SIZE - 10


# --- through the apps ---------------------------------------------------------------------


async def test_header_goes_through_compare_digest(framework: str, spy: Spy) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        assert (await client.get("/items", headers={HEADER: SECRET})).status_code == 200
        assert spy.results == [True]
        assert_digests_compared(spy)
        spy.reset()
        assert (await client.get("/items", headers={HEADER: "short"})).status_code == 503
        assert spy.results == [False]
        assert_digests_compared(spy)


async def test_cookie_goes_through_compare_digest(framework: str, spy: Spy) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    cookie = cookie_for(SECRET, ttl=60)
    async with client_for(app) as client:
        ok = await client.get("/items", headers={"Cookie": f"maintenance_bypass={cookie}"})
        assert ok.status_code == 200
        assert spy.results == [True, True]
        spy.reset()
        forged = flip_last(cookie)
        bad = await client.get("/items", headers={"Cookie": f"maintenance_bypass={forged}"})
        assert bad.status_code == 503
        assert spy.results == [True, False]


async def test_query_parameter_goes_through_compare_digest(framework: str, spy: Spy) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get(f"/items?maintenance_bypass={SECRET}")
        assert response.status_code == 302
        assert True in spy.results
        assert_digests_compared(spy)
    spy.reset()
    async with client_for(app) as client:  # a new client: no cookie from the redirect
        response = await client.get("/items?maintenance_bypass=nope")
        assert response.status_code == 503
        assert spy.results == [False]
        assert_digests_compared(spy)


async def test_every_key_is_checked_even_after_a_match(
    framework: str, spy: Spy, tmp_path: Path
) -> None:
    # Two keys (the middleware's and the stored one): the header is compared with both
    # whichever matches, so the time does not tell which secret was used.
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    for presented, expected in ((SECRET, [True, False]), (OTHER_SECRET, [False, True])):
        spy.reset()
        async with client_for(app) as client:
            response = await client.get("/items", headers={HEADER: presented})
        assert response.status_code == 200
        assert spy.results == expected
    spy.reset()
    async with client_for(app) as client:
        response = await client.get("/items", headers={HEADER: "nobody-knows-this-one"})
    assert response.status_code == 503
    assert spy.results == [False, False]


async def test_every_key_checks_the_cookie_even_after_a_match(
    framework: str, spy: Spy, tmp_path: Path
) -> None:
    # The same for a cookie: checked against both keys, token and signature each time
    # (the signature is keyed with the cookie's own token, so it checks out for both).
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    for secret, expected in (
        (SECRET, [True, True, False, True]),  # the middleware's key, then the stored one
        (OTHER_SECRET, [False, True, True, True]),
    ):
        spy.reset()
        async with client_for(app) as client:
            cookie = f"maintenance_bypass={cookie_for(secret)}"
            response = await client.get("/items", headers={"Cookie": cookie})
        assert response.status_code == 200
        assert spy.results == expected
