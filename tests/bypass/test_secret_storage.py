"""How a stored secret is kept: a slow KDF paid when storing, not on each request.

The attack run's finding: the stored hash was one salted SHA-256 (0.7 million
guesses a second) and weak secrets such as ``aaaaaaaaaaaaaaaa`` were accepted.
A secret is now stored as scrypt; a process runs the KDF once for each distinct
value presented to it and remembers the answer (keyed by an HMAC under a random
per-process key, the wrong values in a bounded LRU); new values are checked at
most ``KDF_BURST`` at once and ``KDF_PER_SECOND`` a second; values that cannot be
a secret are refused without the KDF; weak secrets are refused when stored or
given; the older ``sha256$`` form lets nobody through and says how to fix it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from maintenance_core import bypass as bypass_module
from maintenance_core.backends import LocalFileBackend
from maintenance_core.bypass import (
    KDF_BURST,
    KDF_PER_SECOND,
    SCRYPT_N,
    BypassKey,
    KdfBudget,
    check_secret,
    hash_secret,
)
from maintenance_core.errors import InvalidBypassSecretError
from maintenance_core.state import MaintenanceState

from .apps import FRAMEWORKS, build, client_for
from .conftest import OTHER_SECRET, SECRET

pytestmark = pytest.mark.anyio

HEADER = "X-Maintenance-Bypass"
BIN = Path(sys.executable).parent
sha256 = hashlib.sha256


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def expand(root: bytes, label: bytes) -> bytes:
    return hmac.new(root, label + b"\x01", sha256).digest()


@dataclass
class KdfSpy:
    """Counts the scrypt runs of maintenance_core.bypass, by the value they were given."""

    calls: list[bytes] = field(default_factory=list)

    def count(self, value: str | bytes | None = None) -> int:
        if value is None:
            return len(self.calls)
        raw = value.encode() if isinstance(value, str) else value
        return self.calls.count(raw)


@pytest.fixture
def kdf(monkeypatch: pytest.MonkeyPatch) -> KdfSpy:
    spy = KdfSpy()
    real = hashlib.scrypt

    def scrypt(password: bytes, **options: Any) -> bytes:
        spy.calls.append(bytes(password))
        return real(password, **options)

    assert bypass_module.hashlib is hashlib
    monkeypatch.setattr(bypass_module.hashlib, "scrypt", scrypt)
    return spy


async def status(app: Any, headers: Any = None, url: str = "/items") -> int:
    async with client_for(app) as client:
        return (await client.get(url, headers=headers)).status_code


# --- the stored form -----------------------------------------------------------------------


def test_the_stored_hash_is_scrypt_by_the_documented_recipe() -> None:
    stored = hash_secret(SECRET)
    scheme, n, r, p, salt, verifier, token_check, cookie_key = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, 8, 1)
    assert SCRYPT_N >= 2**14
    assert len(unb64(salt)) == 16
    assert len(unb64(cookie_key)) == 32
    root = hashlib.scrypt(
        SECRET.encode(), salt=unb64(salt), n=SCRYPT_N, r=8, p=1, dklen=32, maxmem=64 * 2**20
    )
    assert verifier == b64(expand(root, b"verifier"))
    assert token_check == b64(sha256(expand(root, b"cookie token")).digest())
    # Not a fast digest of the secret, salted or not.
    for fast in (sha256(SECRET.encode()), sha256(unb64(salt) + SECRET.encode())):
        assert b64(fast.digest()) not in stored
    # Every storing makes a new salt and a new cookie key.
    again = hash_secret(SECRET).split("$")
    assert again[4] != salt
    assert again[7] != cookie_key


def test_an_offline_guess_costs_a_scrypt_run() -> None:
    # The stored verifier answers a guess only through scrypt: one SHA-256 or HMAC of
    # the guess, with or without the salt, is not it.
    stored = hash_secret(SECRET)
    _, _, _, _, salt_text, verifier_text, _, _ = stored.split("$")
    salt, verifier = unb64(salt_text), unb64(verifier_text)
    guess = SECRET.encode()
    fast = [
        sha256(guess).digest(),
        sha256(salt + guess).digest(),
        hmac.new(salt, guess, sha256).digest(),
        hmac.new(guess, salt, sha256).digest(),
        expand(sha256(salt + guess).digest(), b"verifier"),
        expand(hmac.new(salt, guess, sha256).digest(), b"verifier"),
    ]
    assert verifier not in fast


# --- the KDF runs once per value, never for a cookie ---------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_presented_value_costs_one_kdf_per_process(
    framework: str, tmp_path: Path, kdf: KdfSpy
) -> None:
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    kdf.calls.clear()
    app = build(framework, backend=LocalFileBackend(path, check_interval=0))
    for _ in range(5):
        assert await status(app, {HEADER: SECRET}) == 200
    assert kdf.count(SECRET) == 1
    for _ in range(5):
        assert await status(app, {HEADER: OTHER_SECRET}) == 503
    assert kdf.count(OTHER_SECRET) == 1
    # The query parameter is the same value: no new run; the cookie costs none.
    async with client_for(app) as browser:
        assert (await browser.get(f"/items?maintenance_bypass={SECRET}")).status_code == 302
        for _ in range(5):
            assert (await browser.get("/items")).status_code == 200
    assert kdf.count() == 2
    # Another app in the process, on the same stored state, has nothing to run either.
    other = build(framework, backend=LocalFileBackend(path, check_interval=0))
    assert await status(other, {HEADER: SECRET}) == 200
    assert kdf.count() == 2


async def test_the_middleware_secret_costs_no_kdf(framework: str, kdf: KdfSpy) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: SECRET}) == 200
    assert await status(app, {HEADER: OTHER_SECRET}) == 503
    assert kdf.count() == 0


@pytest.mark.parametrize(
    "value",
    [
        b"x" * 1_000_000,
        b"y" * 513,
        "é".encode("latin-1") * 20,
        "é".encode() * 20,
        b"\xff" * 32,
        SECRET[:15].encode(),
        b"",
        SECRET.encode()[:16] + b"\x00" + SECRET.encode()[16:],
        SECRET.encode()[:16] + b"\t" + SECRET.encode()[16:],
    ],
    ids=["a-megabyte", "513-bytes", "latin-1", "utf-8", "0xff", "15-chars", "empty", "nul", "tab"],
)
def test_a_value_that_cannot_be_a_secret_costs_no_kdf(value: bytes, kdf: KdfSpy) -> None:
    key = BypassKey.from_hash(hash_secret(SECRET))
    kdf.calls.clear()
    assert key.verify(value) is None
    assert kdf.count() == 0


async def test_a_huge_header_is_refused_quickly(framework: str, kdf: KdfSpy) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    huge = "A" * 60_000
    assert await status(app, {HEADER: huge, "Cookie": f"maintenance_bypass={huge}"}) == 503
    assert kdf.count() == 0


def test_the_verification_cache_is_bounded_and_never_holds_a_value() -> None:
    # A cheap cost: this test runs the KDF for 600 guesses.
    key = BypassKey.from_hash(hash_secret(SECRET, n=2**10))
    assert key.verify(SECRET.encode()) is not None
    guesses = [secrets.token_urlsafe(24).encode() for _ in range(600)]
    for guess in guesses:
        assert key.verify(guess) is None
    bad: Any = key._bad  # type: ignore[attr-defined]
    good: Any = key._good  # type: ignore[attr-defined]
    assert len(bad) == 256  # the most recent wrong values only
    remembered = [*bad, *good]
    for entry in remembered:
        assert len(entry) == 32
        assert entry not in guesses
        assert SECRET.encode() not in entry
    # The secret is still remembered after the flood: it passes without a new run.
    assert key.verify(SECRET.encode()) is not None


# --- the budget of new values ----------------------------------------------------------------


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_new_values_are_checked_at_most_a_burst_then_a_few_a_second(
    monkeypatch: pytest.MonkeyPatch, kdf: KdfSpy, caplog: pytest.LogCaptureFixture
) -> None:
    assert (KDF_BURST, KDF_PER_SECOND) == (8, 4.0)
    clock = Monotonic()
    monkeypatch.setattr(bypass_module, "_kdf_budget", KdfBudget(clock=clock))
    key = BypassKey.from_hash(hash_secret(SECRET, n=2**10))
    kdf.calls.clear()
    assert key.verify(SECRET.encode()) is not None  # one of the burst
    guesses = [secrets.token_urlsafe(24).encode() for _ in range(50)]
    with caplog.at_level(logging.WARNING):
        for guess in guesses:
            assert key.verify(guess) is None
    assert kdf.count() == KDF_BURST  # the secret, then 7 guesses; the rest unchecked
    # The secret, checked before, still passes without a run.
    assert key.verify(SECRET.encode()) is not None
    assert kdf.count() == KDF_BURST
    # One warning, without any value in it.
    warnings = [r for r in caplog.records if "bypass secret values" in r.getMessage()]
    assert len(warnings) == 1
    for guess in guesses:
        assert guess.decode() not in warnings[0].getMessage()
    # A second later, four more new values are checked.
    clock.now += 1
    for guess in guesses:
        key.verify(guess)
    assert kdf.count() == KDF_BURST + 4
    # A value refused unchecked is checked once the budget allows: the right secret
    # presented while the budget is spent is refused (fail closed), then accepted.
    other = BypassKey.from_hash(hash_secret(OTHER_SECRET, n=2**10))
    assert other.verify(OTHER_SECRET.encode()) is None
    clock.now += 1
    assert other.verify(OTHER_SECRET.encode()) is not None


# --- weak secrets ------------------------------------------------------------------------------

WEAK = {
    "one-character": "aaaaaaaaaaaaaaaa",
    "two-characters": "abababababababab",
    "five-characters": "aabbcaabbcaabbcabc",
    "a-run": "abcdefghijklmnop",
    "a-run-down": "zyxwvutsrqponmlk",
    "digits-run": "0123456789012345",
    "hex-run": "0123456789abcdef",
    "pairs": "aabbccddeeffgghh",
    "a-word-twice": "passwordpassword",
    "a-pattern-then-one": "abcdabcdabcdabcdX",
    "16-digits": "8364019275301846",
    "long-but-one-char": "x" * 100,
}


@pytest.mark.parametrize("secret", WEAK.values(), ids=WEAK.keys())
def test_weak_secrets_are_refused_with_a_way_to_make_a_good_one(secret: str) -> None:
    for make in (check_secret, hash_secret, BypassKey.from_secret):
        with pytest.raises(InvalidBypassSecretError) as raised:
            make(secret)
        message = str(raised.value)
        assert "secrets.token_urlsafe()" in message
        assert secret not in message
        assert secret[:8] not in message


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_weak_secret_fails_at_construction(framework: str) -> None:
    import litestar_maintenance
    from starlette.testclient import TestClient

    if framework == "litestar":
        with pytest.raises(InvalidBypassSecretError):
            litestar_maintenance.MaintenancePlugin(bypass_secret=WEAK["one-character"])
    else:
        app = build("fastapi", enable_maintenance=True, bypass_secret=WEAK["one-character"])
        with pytest.raises(InvalidBypassSecretError), TestClient(app):
            pytest.fail("started with a weak secret")  # pragma: no cover


def test_random_secrets_are_accepted() -> None:
    for _ in range(300):
        check_secret(secrets.token_urlsafe())
        check_secret(secrets.token_urlsafe(12))  # 16 characters
        check_secret(secrets.token_hex(16))
    check_secret("x" * 0 + SECRET[:16])


async def test_the_cli_refuses_a_weak_secret(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [
                os.fspath(BIN / "fastapi-maintenance"),
                "on",
                "--backend",
                "file",
                "--file-path",
                os.fspath(path),
                "--secret",
                "aaaaaaaaaaaaaaaa",
            ],
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "1000"},
            check=False,
        )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 1, output
    assert "too easy to guess" in output
    assert "secrets.token_urlsafe()" in output
    assert "aaaaaaaaaaaaaaaa" not in output
    assert not path.exists()


# --- the older sha256 form ---------------------------------------------------------------------


def legacy_hash(secret: str) -> str:
    """What 0.1.0's ``on --secret`` stored: sha256$<salt>$<digest>$<token digest>."""
    salt = os.urandom(16)
    raw = secret.encode()
    token = hmac.new(raw, b"maintenance-bypass-cookie-v1", sha256).digest()
    return "$".join(
        ["sha256", b64(salt), b64(sha256(salt + raw).digest()), b64(sha256(salt + token).digest())]
    )


def legacy_cookie(secret: str, expires: int) -> str:
    token = hmac.new(secret.encode(), b"maintenance-bypass-cookie-v1", sha256).digest()
    signature = hmac.new(token, str(expires).encode(), sha256).digest()
    return f"{expires}.{b64(token)}.{b64(signature)}"


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> list[logging.LogRecord]:
    """Every record handled by any logger (Litestar's config stops propagation)."""
    seen: list[logging.LogRecord] = []
    original = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        seen.append(record)
        original(self, record)

    monkeypatch.setattr(logging.Logger, "handle", handle)
    return seen


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_legacy_sha256_hash_lets_nobody_through_and_says_so(
    framework: str, tmp_path: Path, records: list[logging.LogRecord]
) -> None:
    stored = legacy_hash(SECRET)
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"on": True, "bypass": stored}))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0))
    assert await status(app) == 503  # the state is read: maintenance is on
    assert await status(app, {HEADER: SECRET}) == 503
    cookie = legacy_cookie(SECRET, int(time.time()) + 600)
    assert await status(app, {"Cookie": f"maintenance_bypass={cookie}"}) == 503
    assert await status(app, url=f"/items?maintenance_bypass={SECRET}") == 503
    warnings = [r.getMessage() for r in records if "older sha256 form" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once, not per request
    assert "on --secret" in warnings[0]
    for part in stored.split("$")[1:]:
        assert part not in warnings[0]
    # The state keeps the value as it is (rewriting the state does not lose it).
    state = MaintenanceState.from_text(path.read_text())
    assert state.bypass == stored
    assert state.bypass_key is None
    # BypassKey.from_hash says why.
    with pytest.raises(ValueError, match="older sha256 form"):
        BypassKey.from_hash(stored)


async def test_cli_status_names_a_legacy_hash(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    stored = legacy_hash(SECRET)
    path.write_text(json.dumps({"on": True, "bypass": stored}))
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [
                os.fspath(BIN / "fastapi-maintenance"),
                "status",
                "--backend",
                "file",
                "--file-path",
                os.fspath(path),
            ],
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "1000"},
            check=False,
        )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert "older sha256 form" in output
    assert "on --secret" in output
    for part in stored.split("$")[1:]:
        assert part not in output
