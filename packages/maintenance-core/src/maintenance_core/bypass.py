"""The secret bypass: lets the team through while everybody else gets the 503.

A secret is accepted from two places: ``bypass_secret=`` given to the
middleware, and the digests stored with the state by ``on --secret``. A request
passes if it carries, while maintenance is on:

- the header ``X-Maintenance-Bypass: <secret>``, or
- a bypass cookie, which a browser gets by opening any URL with
  ``?maintenance_bypass=<secret>``: the answer is a redirect to the same URL
  without the parameter, setting a signed, expiring, ``HttpOnly``,
  ``SameSite=Lax`` cookie (``Secure`` on https).

Secrets are compared through fixed-length digests with
:func:`hmac.compare_digest`, so the time taken does not depend on how much of
a guess is right. The cookie holds an expiry, a token derived one way from the
secret and a signature over the expiry keyed with that token: it cannot be made
from what is stored (digests only), its expiry cannot be changed, and changing
the secret invalidates every cookie. Nothing here logs a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from .errors import InvalidBypassSecretError

__all__ = [
    "BYPASS_COOKIE",
    "BYPASS_HEADER",
    "BYPASS_PARAM",
    "DEFAULT_COOKIE_MAX_AGE",
    "MIN_SECRET_LENGTH",
    "BypassKey",
    "BypassPolicy",
    "hash_secret",
    "make_cookie_value",
]

BYPASS_HEADER = "X-Maintenance-Bypass"
BYPASS_PARAM = "maintenance_bypass"
BYPASS_COOKIE = "maintenance_bypass"
DEFAULT_COOKIE_MAX_AGE = 12 * 3600
MIN_SECRET_LENGTH = 16

Scope = MutableMapping[str, Any]

_HEADER = BYPASS_HEADER.lower().encode("latin-1")
_PARAM = BYPASS_PARAM.encode("latin-1")
_COOKIE_PREFIX = BYPASS_COOKIE.encode("latin-1") + b"="
_HASH_SCHEME = "sha256"
_COOKIE_CONTEXT = b"maintenance-bypass-cookie-v1"


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


def check_secret(secret: object) -> str:
    """Return *secret* if it is strong enough to guard an app in maintenance.

    Raises:
        InvalidBypassSecretError: if it is not a string of at least
            :data:`MIN_SECRET_LENGTH` printable ASCII characters.
    """
    if not isinstance(secret, str):
        raise InvalidBypassSecretError(
            f"The bypass secret must be a string, got {type(secret).__name__}."
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidBypassSecretError(
            f"The bypass secret is {len(secret)} characters long; use at least "
            f"{MIN_SECRET_LENGTH}, e.g. the output of: "
            'python -c "import secrets; print(secrets.token_urlsafe())"'
        )
    if not secret.isascii() or not secret.isprintable() or secret != secret.strip():
        raise InvalidBypassSecretError(
            "The bypass secret must be printable ASCII without surrounding spaces "
            "(it travels in an HTTP header and a URL)."
        )
    return secret


def _token(secret: bytes) -> bytes:
    # What a bypass cookie carries instead of the secret: derived from it, one way.
    return hmac.new(secret, _COOKIE_CONTEXT, hashlib.sha256).digest()


def hash_secret(secret: str) -> str:
    """The form in which a secret is stored with the state.

    ``sha256$<salt>$<digest of the secret>$<digest of its cookie token>``: enough
    to check a presented secret or cookie, not to recover the secret or to make
    a cookie.

    Raises:
        InvalidBypassSecretError: for a weak secret (see :func:`check_secret`).
    """
    raw = check_secret(secret).encode()
    salt = secrets.token_bytes(16)
    digest = hashlib.sha256(salt + raw).digest()
    token_digest = hashlib.sha256(salt + _token(raw)).digest()
    return f"{_HASH_SCHEME}${_b64(salt)}${_b64(digest)}${_b64(token_digest)}"


class BypassKey:
    """One accepted secret: checks presented secrets and bypass cookies.

    Build it with :meth:`from_secret` (the middleware's ``bypass_secret``) or
    :meth:`from_hash` (a secret stored with the state). Either way it holds
    only digests, so a stored hash lets nobody make a cookie.

    A cookie is ``<expiry>.<token>.<signature>``: the token is derived from the
    secret (one way), and the signature, keyed with the token, covers the
    expiry. Checking it takes the token's digest, which both forms hold.
    Cookies made for one secret are accepted wherever that secret is, whether
    given to the middleware or stored with the state.
    """

    __slots__ = ("_digest", "_salt", "_token_digest")

    def __init__(self, salt: bytes, digest: bytes, token_digest: bytes) -> None:
        self._salt = salt
        self._digest = digest
        self._token_digest = token_digest

    @classmethod
    def from_secret(cls, secret: str) -> BypassKey:
        """A key for a secret known in plain text.

        Raises:
            InvalidBypassSecretError: for a weak secret (see :func:`check_secret`).
        """
        raw = check_secret(secret).encode()
        return cls(b"", hashlib.sha256(raw).digest(), hashlib.sha256(_token(raw)).digest())

    @classmethod
    def from_hash(cls, stored: str) -> BypassKey:
        """A key for a secret stored as :func:`hash_secret` wrote it.

        Raises:
            ValueError: if *stored* is not in that form.
        """
        parts = stored.split("$")
        if len(parts) != 4 or parts[0] != _HASH_SCHEME or not all(parts[1:]):
            raise ValueError("'bypass' is not a sha256$<salt>$<digest>$<digest> secret hash")
        try:
            salt, digest, token_digest = (_unb64(part) for part in parts[1:])
        except ValueError:
            raise ValueError("'bypass' is not valid base64") from None
        size = hashlib.sha256().digest_size
        if len(digest) != size or len(token_digest) != size:
            raise ValueError("'bypass' holds a digest of the wrong length")
        return cls(salt, digest, token_digest)

    def matches(self, presented: bytes) -> bool:
        """Whether *presented* is the secret, in time independent of how close it is."""
        candidate = hashlib.sha256(self._salt + presented).digest()
        return hmac.compare_digest(candidate, self._digest)

    def accepts_cookie(self, value: bytes, now: float, max_age: int) -> bool:
        """Whether *value* is a cookie for this secret, unexpired and issued for at
        most *max_age* seconds from *now*."""
        parts = value.split(b".")
        if len(parts) != 3:
            return False
        expires_text, token_text, signature = parts
        if not expires_text.isdigit() or len(expires_text) > 12:
            return False
        expires = int(expires_text)
        if not now < expires <= now + max_age or expires_text != str(expires).encode():
            return False
        try:
            token = _unb64(token_text.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return False
        if _b64(token).encode("ascii") != token_text:
            return False  # one spelling per cookie: no padding, alphabet or junk variants
        token_ok = hmac.compare_digest(
            hashlib.sha256(self._salt + token).digest(), self._token_digest
        )
        expected = _sign(token, expires).encode("ascii")
        return hmac.compare_digest(expected, signature) and token_ok


def make_cookie_value(secret: bytes, expires: int) -> str:
    """A bypass cookie value for *secret*, valid until the Unix time *expires*."""
    token = _token(secret)
    return f"{expires}.{_b64(token)}.{_sign(token, expires)}"


def _sign(token: bytes, expires: int) -> str:
    return _b64(hmac.new(token, str(expires).encode("ascii"), hashlib.sha256).digest())


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
        cookie_max_age: seconds a bypass cookie stays valid (12 hours by default).

    Raises:
        InvalidBypassSecretError: for a weak secret.
    """

    def __init__(
        self, secret: str | None = None, *, cookie_max_age: int = DEFAULT_COOKIE_MAX_AGE
    ) -> None:
        if isinstance(cookie_max_age, bool) or not isinstance(cookie_max_age, int):
            raise TypeError("cookie_max_age must be a whole number of seconds.")
        if cookie_max_age <= 0:
            raise ValueError("cookie_max_age must be positive.")
        self.key = None if secret is None else BypassKey.from_secret(secret)
        self.cookie_max_age = cookie_max_age

    def keys(self, stored: BypassKey | None) -> tuple[BypassKey, ...]:
        """The keys accepted right now: the app's and the one stored with the state."""
        if self.key is None:
            return () if stored is None else (stored,)
        return (self.key,) if stored is None else (self.key, stored)

    def lets_through(self, scope: Scope, keys: Sequence[BypassKey]) -> bool:
        """Whether the request carries a valid secret header or bypass cookie."""
        presented, cookies = _header_values(scope["headers"])
        if not presented and not cookies:
            return False
        now = time.time()
        # Every key and value is checked, so timing does not tell which one matched.
        accepted = False
        for key in keys:
            for value in presented:
                accepted |= key.matches(value)
            for value in cookies:
                accepted |= key.accepts_cookie(value, now, self.cookie_max_age)
        return accepted

    def cookie_redirect(
        self, scope: Scope, keys: Sequence[BypassKey]
    ) -> tuple[tuple[bytes, bytes], ...] | None:
        """The headers of the cookie-setting redirect, if the URL carries a valid secret.

        The redirect goes to the same URL without the ``maintenance_bypass``
        parameter. Its ``Location`` is relative to the current path, so it stays
        right behind a proxy that strips a path prefix.
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
        secret = next(
            (candidate for candidate in candidates for key in keys if key.matches(candidate)),
            None,
        )
        if secret is None:
            return None
        expires = int(time.time()) + self.cookie_max_age
        cookie = (
            f"{BYPASS_COOKIE}={make_cookie_value(secret, expires)}; "
            f"Max-Age={self.cookie_max_age}; "
            "Path=/; HttpOnly; SameSite=Lax"
        )
        if scope.get("scheme") in ("https", "wss"):
            cookie += "; Secure"
        location = "./" + _last_segment(scope)
        if kept:
            location += "?" + b"&".join(kept).decode("latin-1")
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
