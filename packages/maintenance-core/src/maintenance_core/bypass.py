"""The secret bypass: lets the team through while everybody else gets the 503.

A secret is accepted from two places: ``bypass_secret=`` given to the
middleware, and a secret stored with the state by ``on --secret``. A request
passes if it carries, while maintenance is on:

- the header ``X-Maintenance-Bypass: <secret>``, or
- a bypass cookie, which a browser gets by opening any URL with
  ``?maintenance_bypass=<secret>``: the answer is a redirect to the same URL
  without the parameter, setting a signed ``HttpOnly``, ``SameSite=Lax`` cookie
  (``Secure`` on https).

**Keys.** Each accepted secret is a :class:`BypassKey` holding a *cookie key*
that signs cookies and that no cookie carries:

- for ``bypass_secret=``, the cookie key is derived from the secret with
  HKDF-SHA256 (salt ``maintenance-bypass-v2``, info ``cookie key``), so every
  process given the same secret signs and checks the same cookies, and another
  secret revokes them;
- for a stored secret, it is 32 random bytes stored with the state, new each
  time a secret is stored: every process reading the state shares it, and
  storing a secret again (even the same one) revokes every cookie made before.

**Cookies.** ``<issued>.<token>.<mac>``: the Unix time the cookie was made,
a token derived from the secret, and HMAC-SHA256 under the cookie key of both.
A cookie is accepted while ``now < issued + cookie_max_age`` (the *current*
max age: lowering it shortens cookies already issued) and not issued more than
:data:`CLOCK_SKEW` seconds in the future. Holding a cookie, even an expired one,
gives no way to make another: the key is not in it. The token is checked
against a digest, so for a stored secret the cookie key alone (readable in the
state) does not make a cookie either: that needs the token too, which only the
secret or a cookie gives.

**Stored secrets.** :func:`hash_secret` stores the secret as scrypt (salted, a
cost of ``n=2**14, r=8, p=1`` by default, written in the stored text) plus the
cookie key: ``scrypt$<n>$<r>$<p>$<salt>$<verifier>$<token digest>$<cookie key>``.
The KDF's cost is paid when storing, and once per process for each distinct
value presented: the result is remembered, keyed by an HMAC of the value under
a random per-process key (never the value itself), the right value in one slot
and wrong ones in a small bounded LRU. New values are checked at most
:data:`KDF_BURST` at once and :data:`KDF_PER_SECOND` a second per process;
beyond that a new value is refused unchecked (values already checked still
pass). Cookies never cost a KDF. The older ``sha256$`` form is no longer
accepted: the state stays readable, the secret does not open anything, and a
warning says to store it again.

Secrets and cookies are compared with :func:`hmac.compare_digest` on fixed-length
digests; every key is checked against every presented value and cookie.
Nothing here logs a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import anyio.to_thread

from ._log import get_logger
from .errors import InvalidBypassSecretError

__all__ = [
    "BYPASS_COOKIE",
    "BYPASS_HEADER",
    "BYPASS_PARAM",
    "CLOCK_SKEW",
    "DEFAULT_COOKIE_MAX_AGE",
    "KDF_BURST",
    "KDF_PER_SECOND",
    "MAX_SECRET_LENGTH",
    "MIN_SECRET_LENGTH",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "BypassKey",
    "BypassPolicy",
    "KdfBudget",
    "check_secret",
    "hash_secret",
    "key_for_stored",
]

BYPASS_HEADER = "X-Maintenance-Bypass"
BYPASS_PARAM = "maintenance_bypass"
BYPASS_COOKIE = "maintenance_bypass"
DEFAULT_COOKIE_MAX_AGE = 12 * 3600
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 512
MIN_SECRET_BITS = 64
"""The least estimated entropy (length times log2 of the alphabet) of an accepted secret."""
CLOCK_SKEW = 60
"""Seconds a cookie's issue time may be ahead of this host's clock (hosts sharing cookies)."""

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
KDF_BURST = 8
KDF_PER_SECOND = 4.0
_VERIFIED_CACHE_SIZE = 256
_STORED_KEYS_SIZE = 32

Scope = MutableMapping[str, Any]

_HEADER = BYPASS_HEADER.lower().encode("latin-1")
_PARAM = BYPASS_PARAM.encode("latin-1")
_COOKIE_PREFIX = BYPASS_COOKIE.encode("latin-1") + b"="
_SCHEME = "scrypt"
_LEGACY_SCHEME = "sha256"
_CONTEXT = b"maintenance-bypass-v2"
_MAC_CONTEXT = b"maintenance-bypass-v2 cookie\x00"
_DIGEST_SIZE = hashlib.sha256().digest_size
_MAX_COOKIE_LENGTH = 12 + 1 + 43 + 1 + 43
_GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe())"'

# Remembers which presented values were checked, as HMACs under this key: the
# caches never hold a value, and nobody outside the process can aim at a slot.
_PROCESS_KEY = secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode unpadded URL-safe base64 strictly: anything else raises ValueError."""
    data = base64.b64decode(
        text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
    )
    if _b64(data) != text:
        raise ValueError("not canonical base64")
    return data


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _expand(root: bytes, label: bytes) -> bytes:
    # HKDF-Expand (RFC 5869) of one SHA-256 block.
    return _hmac(root, label + b"\x01")


def _tag(presented: bytes) -> bytes:
    return _hmac(_PROCESS_KEY, presented)


# --- how strong a secret must be ---------------------------------------------------------


def _weakness(secret: str) -> str | None:
    """Why *secret* (printable ASCII, long enough) is easy to guess, or ``None``."""
    size = len(secret)
    if len(set(secret)) < 6:
        return f"it uses only {len(set(secret))} different characters"
    for period in range(1, size // 2 + 1):
        same = sum(secret[i] == secret[i - period] for i in range(period, size))
        if same >= 0.75 * (size - period):
            return "it repeats a short pattern"
    codes = [ord(c) for c in secret]
    # A character is predictable when it repeats the one before or goes on with its
    # step of one ("aaaa", "abcd", "9876").
    runs = sum(
        codes[i] == codes[i - 1]
        or (i >= 2 and codes[i] - codes[i - 1] == codes[i - 1] - codes[i - 2] in (-1, 1))
        for i in range(1, size)
    )
    if runs >= 0.5 * (size - 1):
        return "it is mostly runs such as 'aaaa' or 'abcd'"
    letters = set(secret)
    if letters <= set("0123456789"):
        alphabet = 10
    elif letters <= set("0123456789abcdef") or letters <= set("0123456789ABCDEF"):
        alphabet = 16
    else:
        alphabet = 0
        for chars, count in (
            (str.islower, 26),
            (str.isupper, 26),
            (str.isdigit, 10),
        ):
            if any(chars(c) for c in secret):
                alphabet += count
        if any(not c.isalnum() for c in secret):
            alphabet += 33
    bits = size * math.log2(alphabet)
    if bits < MIN_SECRET_BITS:
        return f"about {int(bits)} bits for its length and alphabet, under {MIN_SECRET_BITS}"
    counts = Counter(secret)
    shannon = -sum(n / size * math.log2(n / size) for n in counts.values()) * size
    if shannon < 0.5 * MIN_SECRET_BITS:
        return "a few characters make up most of it"
    return None


def check_secret(secret: object) -> str:
    """Return *secret* if it is strong enough to guard an app in maintenance.

    A secret must be a string of :data:`MIN_SECRET_LENGTH` to
    :data:`MAX_SECRET_LENGTH` printable ASCII characters, without surrounding
    spaces, and not easy to guess: at least 6 different characters, no short
    pattern repeated, not mostly runs (``aaaa``, ``abcd``), and an estimated
    entropy (length times log2 of its alphabet) of at least
    :data:`MIN_SECRET_BITS` bits. Random output of
    ``secrets.token_urlsafe()`` always passes. The messages never show the secret.

    Raises:
        InvalidBypassSecretError: naming what is wrong and how to make a good one.
    """
    if not isinstance(secret, str):
        raise InvalidBypassSecretError(
            f"The bypass secret must be a string, got {type(secret).__name__}."
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidBypassSecretError(
            f"The bypass secret is {len(secret)} characters long; use at least "
            f"{MIN_SECRET_LENGTH}, e.g. the output of: {_GENERATE}"
        )
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidBypassSecretError(
            f"The bypass secret is {len(secret)} characters long; use at most "
            f"{MAX_SECRET_LENGTH}, e.g. the output of: {_GENERATE}"
        )
    if not secret.isascii() or not secret.isprintable() or secret != secret.strip():
        raise InvalidBypassSecretError(
            "The bypass secret must be printable ASCII without surrounding spaces "
            "(it travels in an HTTP header and a URL)."
        )
    weakness = _weakness(secret)
    if weakness is not None:
        raise InvalidBypassSecretError(
            f"The bypass secret is too easy to guess ({weakness}). Use a random one, "
            f"e.g. the output of: {_GENERATE}"
        )
    return secret


def _plausible(presented: bytes) -> bool:
    # What could be an accepted secret at all: anything else is refused without
    # hashing it, so a huge or non-ASCII value costs nothing.
    return (
        MIN_SECRET_LENGTH <= len(presented) <= MAX_SECRET_LENGTH
        and presented.isascii()
        and presented.decode("ascii").isprintable()
        and presented == presented.strip()
    )


# --- the KDF budget -----------------------------------------------------------------------


class KdfBudget:
    """How many new values this process may run through the KDF: a token bucket.

    Args:
        burst: checks allowed at once.
        per_second: checks regained each second.
        clock: a monotonic clock, in seconds.
    """

    def __init__(
        self,
        burst: int = KDF_BURST,
        per_second: float = KDF_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._warned_at = -math.inf
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Whether one more check may run now (and count it)."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            warn = now - self._warned_at >= 60
            if warn:
                self._warned_at = now
        if warn:
            get_logger("bypass").warning(
                "More new bypass secret values than this process checks (%d at once, %g a "
                "second): new values are refused unchecked for now; values already checked "
                "and bypass cookies still pass.",
                self.burst,
                self.per_second,
            )
        return False


_kdf_budget = KdfBudget()
_AHEAD_SIZE = 16  # derivations waiting for their comparison (a few requests' worth)


# --- keys ------------------------------------------------------------------------------


class BypassKey:
    """One accepted secret: checks presented secrets and bypass cookies, and makes cookies.

    Build it with :meth:`from_secret` (the middleware's ``bypass_secret``) or
    :meth:`from_hash` (a secret stored with the state). It holds no secret: a
    digest of the cookie token, the cookie key, and what checks a presented
    value (see the module's documentation).
    """

    __slots__ = ("_cookie_key", "_token_check")

    def __init__(self, cookie_key: bytes, token_check: bytes) -> None:
        self._cookie_key = cookie_key
        self._token_check = token_check

    @classmethod
    def from_secret(cls, secret: str) -> BypassKey:
        """A key for a secret known in plain text (``bypass_secret=``).

        Raises:
            InvalidBypassSecretError: for a weak secret (see :func:`check_secret`).
        """
        return _SecretKey(check_secret(secret).encode("ascii"))

    @classmethod
    def from_hash(cls, stored: str) -> BypassKey:
        """A key for a secret stored as :func:`hash_secret` wrote it.

        Raises:
            ValueError: if *stored* is not in that form (also for the older
                ``sha256$`` form, which is no longer accepted).
        """
        if stored.startswith(_LEGACY_SCHEME + "$"):
            raise ValueError(
                "the stored bypass secret is in the older sha256 form, which is no longer "
                "accepted: store the secret again with `on --secret`"
            )
        return _StoredKey.parse(stored)

    def verify(self, presented: bytes) -> bytes | None:
        """The cookie token if *presented* is the secret, else ``None``."""
        raise NotImplementedError

    def derive_ahead(self, presented: bytes) -> None:
        """Run, now, the slow part of checking *presented* that :meth:`verify` would
        run, so that :meth:`verify` does not; a no-op for keys without one."""

    def matches(self, presented: bytes) -> bool:
        """Whether *presented* is the secret, in time independent of how close it is."""
        return self.verify(presented) is not None

    def cookie(self, presented: bytes, issued: int) -> str | None:
        """A cookie value issued at the Unix time *issued*, if *presented* is the secret."""
        token = self.verify(presented)
        return None if token is None else self._make_cookie(token, issued)

    def _make_cookie(self, token: bytes, issued: int) -> str:
        issued_text = str(issued).encode("ascii")
        token_text = _b64(token).encode("ascii")
        return f"{issued}.{_b64(token)}.{self._mac(issued_text, token_text)}"

    def _mac(self, issued_text: bytes, token_text: bytes) -> str:
        return _b64(_hmac(self._cookie_key, _MAC_CONTEXT + issued_text + b"." + token_text))

    def accepts_cookie(self, value: bytes, now: float, max_age: int) -> bool:
        """Whether *value* is a cookie of this key, issued less than *max_age* seconds
        before *now* (and at most :data:`CLOCK_SKEW` seconds after it)."""
        if len(value) > _MAX_COOKIE_LENGTH:
            return False
        parts = value.split(b".")
        if len(parts) != 3:
            return False
        issued_text, token_text, mac = parts
        if not issued_text.isdigit() or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        if issued_text != str(issued).encode("ascii"):
            return False  # one spelling: no leading zeros
        if not now - max_age < issued <= now + CLOCK_SKEW:
            return False
        try:
            token = _unb64(token_text.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return False
        token_ok = hmac.compare_digest(hashlib.sha256(token).digest(), self._token_check)
        mac_ok = hmac.compare_digest(self._mac(issued_text, token_text).encode("ascii"), mac)
        return token_ok & mac_ok


class _SecretKey(BypassKey):
    """The middleware's secret: every key derived from it (HKDF-SHA256)."""

    __slots__ = ("_tag", "_token")

    def __init__(self, secret: bytes) -> None:
        root = _hmac(_CONTEXT, secret)  # HKDF-Extract, salt = the context
        self._token = _expand(root, b"cookie token")
        self._tag = _tag(secret)
        super().__init__(_expand(root, b"cookie key"), hashlib.sha256(self._token).digest())

    def verify(self, presented: bytes) -> bytes | None:
        ok = hmac.compare_digest(_tag(presented), self._tag)
        return self._token if ok else None


class _StoredKey(BypassKey):
    """A stored secret: scrypt to check a presented value, a random stored cookie key."""

    __slots__ = ("_ahead", "_bad", "_good", "_lock", "_n", "_p", "_r", "_salt", "_verifier")

    def __init__(
        self,
        n: int,
        r: int,
        p: int,
        salt: bytes,
        verifier: bytes,
        token_check: bytes,
        cookie_key: bytes,
    ) -> None:
        super().__init__(cookie_key, token_check)
        self._n, self._r, self._p = n, r, p
        self._salt = salt
        self._verifier = verifier
        # The right value once seen (its tag, and the token), and recent wrong ones.
        self._good: tuple[bytes, bytes] | None = None
        self._bad: OrderedDict[bytes, None] = OrderedDict()
        # Derived in a worker thread by derive_ahead(), waiting for verify() to compare.
        self._ahead: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, stored: str) -> _StoredKey:
        parts = stored.split("$")
        if len(parts) != 8 or parts[0] != _SCHEME or not all(parts[1:]):
            raise ValueError(
                "'bypass' is not a scrypt$<n>$<r>$<p>$<salt>$<verifier>$<digest>$<key> secret hash"
            )
        n, r, p = _cost(parts[1:4])
        try:
            salt, verifier, token_check, cookie_key = (_unb64(part) for part in parts[4:])
        except ValueError:
            raise ValueError("'bypass' is not valid base64") from None
        if len(salt) < 16 or any(
            len(part) != _DIGEST_SIZE for part in (verifier, token_check, cookie_key)
        ):
            raise ValueError("'bypass' holds a salt or digest of the wrong length")
        return cls(n, r, p, salt, verifier, token_check, cookie_key)

    def _derive(self, presented: bytes) -> bytes:
        return hashlib.scrypt(
            presented,
            salt=self._salt,
            n=self._n,
            r=self._r,
            p=self._p,
            maxmem=_scrypt_memory(self._n, self._r),
            dklen=_DIGEST_SIZE,
        )

    def needs_derivation(self, presented: bytes) -> bool:
        """Whether :meth:`verify` would run scrypt for *presented* (nothing remembered)."""
        if not _plausible(presented):
            return False
        tag = _tag(presented)
        good = self._good
        with self._lock:
            # Membership of an HMAC tag under a per-process random key tells nothing.
            return not (
                (good is not None and tag == good[0]) or tag in self._bad or tag in self._ahead
            )

    def derive_ahead(self, presented: bytes) -> None:
        # Called in a worker thread. Only the derivation runs here: the comparisons
        # stay in verify(), so a check compares the same things in the same order.
        if not self.needs_derivation(presented):
            return
        tag = _tag(presented)
        if not _kdf_budget.take():
            return
        root = self._derive(presented)
        with self._lock:
            self._ahead[tag] = root
            while len(self._ahead) > _AHEAD_SIZE:
                self._ahead.popitem(last=False)

    def verify(self, presented: bytes) -> bytes | None:
        if not _plausible(presented):
            return None  # no stored secret is that: no HMAC, no KDF, nothing remembered
        tag = _tag(presented)
        good = self._good
        if good is not None and hmac.compare_digest(tag, good[0]):
            return good[1]
        with self._lock:
            if tag in self._bad:
                self._bad.move_to_end(tag)
                return None
            root = self._ahead.pop(tag, None)
        if root is None:
            if not _kdf_budget.take():
                return None
            root = self._derive(presented)
        if hmac.compare_digest(_expand(root, b"verifier"), self._verifier):
            token = _expand(root, b"cookie token")
            self._good = (tag, token)
            return token
        with self._lock:
            self._bad[tag] = None
            while len(self._bad) > _VERIFIED_CACHE_SIZE:
                self._bad.popitem(last=False)
        return None


def _cost(texts: Sequence[str]) -> tuple[int, int, int]:
    if not all(text.isdigit() and len(text) <= 8 for text in texts):
        raise ValueError("'bypass' has a scrypt cost that is not a number")
    n, r, p = (int(text) for text in texts)
    if not (2**10 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError("'bypass' has a scrypt cost out of range")
    if 128 * n * r > 256 * 1024 * 1024:
        raise ValueError("'bypass' has a scrypt cost needing more than 256 MiB")
    return n, r, p


def _scrypt_memory(n: int, r: int) -> int:
    return 128 * n * r + 1024 * 1024


def hash_secret(secret: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The form in which a secret is stored with the state (see the module's docs).

    Runs scrypt once (about 60 ms and 16 MiB with the default cost). What it
    returns checks a presented secret, at scrypt's cost per guess, and holds a
    new random cookie key: enough to check cookies, not to recover the secret
    or, without a cookie, to make one.

    Raises:
        InvalidBypassSecretError: for a weak secret (see :func:`check_secret`).
        ValueError: for a cost out of range.
    """
    raw = check_secret(secret).encode("ascii")
    n, r, p = _cost([str(n), str(r), str(p)])
    salt = secrets.token_bytes(16)
    root = hashlib.scrypt(
        raw, salt=salt, n=n, r=r, p=p, maxmem=_scrypt_memory(n, r), dklen=_DIGEST_SIZE
    )
    verifier = _expand(root, b"verifier")
    token_check = hashlib.sha256(_expand(root, b"cookie token")).digest()
    cookie_key = secrets.token_bytes(_DIGEST_SIZE)
    fields = (_b64(part) for part in (salt, verifier, token_check, cookie_key))
    return "$".join((_SCHEME, str(n), str(r), str(p), *fields))


_stored_keys: OrderedDict[str, BypassKey | None] = OrderedDict()
_stored_keys_lock = threading.Lock()


def key_for_stored(stored: str) -> BypassKey | None:
    """The key of a stored secret, shared by every state holding the same text.

    One key per stored text (a few are remembered), so what it learnt about
    presented values survives re-reading the state. The older ``sha256$`` form
    gives ``None`` (no secret opens anything) and a warning, once.

    Raises:
        ValueError: if *stored* is neither form.
    """
    with _stored_keys_lock:
        if stored in _stored_keys:
            _stored_keys.move_to_end(stored)
            return _stored_keys[stored]
    key: BypassKey | None
    if stored.startswith(_LEGACY_SCHEME + "$") and stored.count("$") == 3:
        key = None
        get_logger("bypass").warning(
            "The bypass secret stored with the state is in the older sha256 form, which is "
            "no longer accepted: it lets nobody through. Store it again with "
            "`on --secret` (a new secret is best)."
        )
    else:
        key = _StoredKey.parse(stored)
    with _stored_keys_lock:
        _stored_keys[stored] = key
        while len(_stored_keys) > _STORED_KEYS_SIZE:
            _stored_keys.popitem(last=False)
    return key


def _header_values(headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[bytes], list[bytes]]:
    presented: list[bytes] = []
    cookies: list[bytes] = []
    for name, value in headers:
        if name == _HEADER:
            presented.append(value.strip())
        elif name == b"cookie":
            for part in value.split(b";"):
                part = part.strip()
                if part.startswith(_COOKIE_PREFIX):
                    cookies.append(part[len(_COOKIE_PREFIX) :])
    return presented, cookies


class BypassPolicy:
    """How one app lets requests with a bypass secret through.

    Args:
        secret: the app's own secret (``bypass_secret=``), or ``None``.
        cookie_max_age: seconds a bypass cookie stays valid after it is issued
            (12 hours by default); it applies to cookies already issued too.
        clock: the wall clock cookies are issued and checked by (Unix seconds).

    Raises:
        InvalidBypassSecretError: for a weak secret.
    """

    def __init__(
        self,
        secret: str | None = None,
        *,
        cookie_max_age: int = DEFAULT_COOKIE_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(cookie_max_age, bool) or not isinstance(cookie_max_age, int):
            raise TypeError("cookie_max_age must be a whole number of seconds.")
        if cookie_max_age <= 0:
            raise ValueError("cookie_max_age must be positive.")
        self.key = None if secret is None else BypassKey.from_secret(secret)
        self.cookie_max_age = cookie_max_age
        self.clock = clock

    def keys(self, stored: BypassKey | None) -> tuple[BypassKey, ...]:
        """The keys accepted right now: the app's and the one stored with the state."""
        if self.key is None:
            return () if stored is None else (stored,)
        return (self.key,) if stored is None else (self.key, stored)

    async def prepare(self, scope: Scope, keys: Sequence[BypassKey]) -> None:
        """Verify, in a worker thread, the presented values that need the key derivation.

        scrypt takes tens of milliseconds: run on the event loop it would stall
        every other request of the process. Its answers are remembered, so the
        checks that follow (:meth:`lets_through`, :meth:`param_redirect`) find them.
        """
        if not any(isinstance(key, _StoredKey) for key in keys):
            return
        presented, _ = _header_values(scope["headers"])
        query: bytes = scope.get("query_string") or b""
        if _PARAM in query:
            presented += [
                _form_decode(value)
                for name, _, value in (pair.partition(b"=") for pair in query.split(b"&"))
                if name == _PARAM
            ]
        for key in keys:
            if isinstance(key, _StoredKey):
                for value in presented:
                    if key.needs_derivation(value):
                        await anyio.to_thread.run_sync(key.derive_ahead, value)

    def lets_through(self, scope: Scope, keys: Sequence[BypassKey]) -> bool:
        """Whether the request carries a valid secret header or bypass cookie."""
        presented, cookies = _header_values(scope["headers"])
        if not presented and not cookies:
            return False
        now = self.clock()
        # Every key and value is checked, so timing does not tell which one matched.
        accepted = False
        for key in keys:
            for value in presented:
                accepted |= key.verify(value) is not None
            for value in cookies:
                accepted |= key.accepts_cookie(value, now, self.cookie_max_age)
        return accepted

    def cookie_redirect(
        self, scope: Scope, keys: Sequence[BypassKey]
    ) -> tuple[tuple[bytes, bytes], ...] | None:
        """The headers of the cookie-setting redirect, if the URL carries a valid secret."""
        headers = self.param_redirect(scope, keys)
        if headers is None or not any(name == b"set-cookie" for name, _ in headers):
            return None  # no parameter, or not a valid secret: no cookie to set
        return headers

    def param_redirect(
        self, scope: Scope, keys: Sequence[BypassKey]
    ) -> tuple[tuple[bytes, bytes], ...] | None:
        """The headers of a redirect dropping the ``maintenance_bypass`` parameter.

        ``None`` when the URL does not carry the parameter. Otherwise the
        redirect goes to the same URL without it, whatever the maintenance state
        and the route, so a secret in a URL never reaches the app (or its logs);
        it also sets the bypass cookie when the value is a valid secret. Its
        ``Location`` is relative to the current path, so it stays right behind a
        proxy that strips a path prefix.
        """
        query: bytes = scope.get("query_string") or b""
        if _PARAM not in query:
            return None
        kept: list[bytes] = []
        candidates: list[bytes] = []
        for pair in query.split(b"&"):
            name, _, value = pair.partition(b"=")
            # The name is matched as sent, not percent-decoded: one spelling, one meaning.
            if name == _PARAM:
                candidates.append(_form_decode(value))
            elif pair:
                kept.append(pair)
        if not candidates:
            return None  # another parameter whose name merely contains ours
        location = "./" + _last_segment(scope)
        if kept:
            location += "?" + b"&".join(kept).decode("latin-1")
        # Every key and candidate is checked, as for the header; the first match signs.
        found: tuple[BypassKey, bytes] | None = None
        for key in keys:
            for candidate in candidates:
                token = key.verify(candidate)
                if token is not None and found is None:
                    found = (key, token)
        if found is None:
            return (
                (b"location", location.encode("latin-1")),
                (b"cache-control", b"no-store"),
                (b"content-length", b"0"),
            )
        key, token = found
        cookie = (
            f"{BYPASS_COOKIE}={key._make_cookie(token, int(self.clock()))}; "
            f"Max-Age={self.cookie_max_age}; "
            "Path=/; HttpOnly; SameSite=Lax"
        )
        if scope.get("scheme") in ("https", "wss"):
            cookie += "; Secure"
        return (
            (b"location", location.encode("latin-1")),
            (b"set-cookie", cookie.encode("latin-1")),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
        )


def _form_decode(text: bytes) -> bytes:
    return unquote_to_bytes(text.replace(b"+", b" "))


def _last_segment(scope: Scope) -> str:
    raw_path = scope.get("raw_path")
    if isinstance(raw_path, bytes) and raw_path:
        path = raw_path.split(b"?", 1)[0].decode("latin-1")
    else:
        path = quote(str(scope.get("path", "/")))
    return path.rsplit("/", 1)[-1]
