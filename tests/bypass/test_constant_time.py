"""Timing-safety: every secret and cookie check goes through ``hmac.compare_digest``.

``hmac.compare_digest`` is replaced by a spy that records its arguments and
result and delegates to the real function. A behavioural check, not a timing
measurement: it shows the constant-time primitive is on the path for the
header, the cookie and the query parameter, that it compares fixed-length
values that do not depend on the length of the guess, and, exactly, that every
key is checked against every presented value, also after a match.

For a stored secret a value is compared once through scrypt; after that its
answer is remembered under an HMAC of the value (the right one compared with
``compare_digest``, wrong ones found in a small map keyed by that HMAC).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from maintenance_core import bypass as bypass_module
from maintenance_core.backends import LocalFileBackend
from maintenance_core.bypass import BypassKey, hash_secret
from maintenance_core.state import MaintenanceState

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET, cookie_for, stored_cookie

pytestmark = pytest.mark.anyio

HEADER = "X-Maintenance-Bypass"
DIGEST_SIZE = hashlib.sha256().digest_size
MAC_SIZE = 43  # unpadded urlsafe base64 of a SHA-256 HMAC


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
    assert spy.calls
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
def test_a_given_secret_compares_fixed_length_hmacs(spy: Spy, presented: str) -> None:
    key = BypassKey.from_secret(SECRET)
    result = key.matches(presented.encode())
    assert result is (presented == SECRET)
    assert spy.results == [result]
    assert_digests_compared(spy)


@pytest.mark.parametrize(
    "presented",
    [SECRET, OTHER_SECRET, SECRET[:-1], SECRET * 8],
    ids=["right", "wrong", "prefix", "long"],
)
def test_a_stored_secret_compares_the_scrypt_verifier_then_remembers(
    spy: Spy, presented: str
) -> None:
    key = BypassKey.from_hash(hash_secret(SECRET))
    right = presented == SECRET
    # First time: scrypt, then the verifier is compared.
    assert key.matches(presented.encode()) is right
    assert spy.results == [right]
    assert_digests_compared(spy)
    spy.reset()
    # Second time: the right value is compared with the remembered one; a wrong one is
    # found among the remembered wrong values (no scrypt, no comparison).
    assert key.matches(presented.encode()) is right
    assert spy.results == ([True] if right else [])
    spy.reset()
    # Once the right value is known, every other value is compared with it first.
    assert key.matches(SECRET.encode()) is True
    spy.reset()
    assert key.matches(presented.encode()) is right
    assert spy.results[0] is right
    assert_digests_compared(spy)


def test_values_that_cannot_be_a_secret_are_refused_before_any_comparison(spy: Spy) -> None:
    # Too short or not printable ASCII: no stored secret can be that, so neither
    # scrypt nor a comparison runs (the refusal says only what the sender knows).
    key = BypassKey.from_hash(hash_secret(SECRET))
    for value in (b"", b"x", SECRET.encode()[:15], "é".encode() * 20, b"A" * 10_000):
        assert key.matches(value) is False
    assert spy.calls == []


def flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


@pytest.mark.parametrize("source", ["from_secret", "from_hash"])
def test_accepts_cookie_compares_the_token_and_the_mac(spy: Spy, source: str) -> None:
    # A cookie is <issued>.<token>.<mac>: the token's digest and the MAC are both
    # compared with compare_digest, each time, whichever of them is wrong.
    if source == "from_secret":
        key = BypassKey.from_secret(SECRET)
        good = cookie_for(SECRET, issued=1000)
        other = cookie_for(OTHER_SECRET, issued=1000)
    else:
        stored = hash_secret(SECRET)
        key = BypassKey.from_hash(stored)
        good = stored_cookie(stored, SECRET, issued=1000)
        other = stored_cookie(hash_secret(OTHER_SECRET), OTHER_SECRET, issued=1000)
    spy.reset()
    assert key.accepts_cookie(good.encode(), 1010.0, 3600) is True
    assert spy.results == [True, True]  # the token's digest, then the MAC
    (a, b, _), (c, d, _) = spy.calls
    assert (len(a), len(b)) == (DIGEST_SIZE, DIGEST_SIZE)
    assert (len(c), len(d)) == (MAC_SIZE, MAC_SIZE)

    spy.reset()
    assert key.accepts_cookie(flip_last(good).encode(), 1010.0, 3600) is False
    assert spy.results == [True, False]  # right token, wrong MAC

    spy.reset()
    # Another secret's cookie: neither its token nor its MAC is ours; both compared.
    assert key.accepts_cookie(other.encode(), 1010.0, 3600) is False
    assert spy.results == [False, False]

    # A short MAC is still handed to compare_digest, not rejected by its length.
    spy.reset()
    assert key.accepts_cookie(good[:-10].encode(), 1010.0, 3600) is False
    assert spy.results == [True, False]
    assert len(spy.calls[1][1]) == MAC_SIZE - 10


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
    cookie = cookie_for(SECRET)
    spy.reset()  # making the cookie checked the secret
    async with client_for(app) as client:
        ok = await client.get("/items", headers={"Cookie": f"maintenance_bypass={cookie}"})
        assert ok.status_code == 200
        assert spy.results == [True, True]
        spy.reset()
        forged = flip_last(cookie)
        bad = await client.get("/items", headers={"Cookie": f"maintenance_bypass={forged}"})
        assert bad.status_code == 503
        assert spy.results == [True, False]


async def test_query_parameter_checks_every_candidate_even_after_a_match(
    framework: str, spy: Spy
) -> None:
    # The parameter given three times, the right value in the middle: each value is
    # compared, the ones after the match too.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    query = f"maintenance_bypass={OTHER_SECRET}&maintenance_bypass={SECRET}&maintenance_bypass=nope"
    async with client_for(app) as client:
        response = await client.get(f"/items?{query}")
    assert response.status_code == 302
    assert spy.results == [False, True, False]
    assert_digests_compared(spy)
    spy.reset()
    async with client_for(app) as client:  # a new client: no cookie from the redirect
        response = await client.get("/items?maintenance_bypass=nope")
    assert response.status_code == 503
    assert spy.results == [False]
    assert_digests_compared(spy)


async def test_query_parameter_checks_every_key_and_candidate(
    framework: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two keys (the middleware's and the stored one) and two values: all four pairs are
    # checked, whichever matches first.
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    checked: list[tuple[str, bytes]] = []
    for cls in (bypass_module._SecretKey, bypass_module._StoredKey):
        real = cls.verify

        def verify(self: Any, presented: bytes, real: Any = real) -> bytes | None:
            checked.append((type(self).__name__, presented))
            result: bytes | None = real(self, presented)
            return result

        monkeypatch.setattr(cls, "verify", verify)
    for first, second in ((SECRET, OTHER_SECRET), (OTHER_SECRET, SECRET)):
        checked.clear()
        async with client_for(app) as client:
            url = f"/items?maintenance_bypass={first}&maintenance_bypass={second}"
            response = await client.get(url)
        assert response.status_code == 302
        assert sorted(checked) == sorted(
            (name, value.encode())
            for name in ("_SecretKey", "_StoredKey")
            for value in (first, second)
        )


async def test_every_key_is_checked_even_after_a_match(
    framework: str, spy: Spy, tmp_path: Path
) -> None:
    # Two keys (the middleware's and the stored one): the header is compared with both
    # whichever matches, so the time does not tell which secret was used.
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    for presented, expected in (
        # the middleware's key, then the stored one (scrypt's verifier, the first time)
        (SECRET, [True, False]),
        (OTHER_SECRET, [False, True]),
        # the stored one now knows OTHER_SECRET: compared with it before any scrypt
        (SECRET, [True, False]),
        ("nobody-knows-this-one", [False, False, False]),
    ):
        spy.reset()
        async with client_for(app) as client:
            response = await client.get("/items", headers={HEADER: presented})
        assert response.status_code == (503 if presented.startswith("nobody") else 200)
        assert spy.results == expected, presented
        assert_digests_compared(spy)


async def test_every_key_checks_the_cookie_even_after_a_match(
    framework: str, spy: Spy, tmp_path: Path
) -> None:
    # The same for a cookie: checked against both keys, token and MAC each time.
    path = tmp_path / "state.json"
    stored = hash_secret(OTHER_SECRET)
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=stored))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    cookies = [cookie_for(SECRET), stored_cookie(stored, OTHER_SECRET)]
    for cookie, expected in (
        (cookies[0], [True, True, False, False]),  # the middleware's key, the stored one
        (cookies[1], [False, False, True, True]),
    ):
        spy.reset()
        async with client_for(app) as client:
            response = await client.get(
                "/items", headers={"Cookie": f"maintenance_bypass={cookie}"}
            )
        assert response.status_code == 200
        assert spy.results == expected
