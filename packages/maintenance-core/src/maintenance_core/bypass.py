"""The secret bypass: lets the team through while everybody else gets the 503.

A secret is accepted from two places: ``bypass_secret=`` given to the
middleware, and the hash stored with the state by ``on --secret``. A request
passes if it carries, while maintenance is on:

- the header ``X-Maintenance-Bypass: <secret>``, or
- a bypass cookie, which a browser gets by opening any URL with
  ``?maintenance_bypass=<secret>``: the answer is a redirect to the same URL
  without the parameter, setting a signed, expiring, ``HttpOnly``,
  ``SameSite=Lax`` cookie (``Secure`` on https).

Secrets are compared through fixed-length digests with
:func:`hmac.compare_digest`, so the time taken does not depend on how much of
a guess is right. The cookie holds only an expiry and a signature; it is
signed with a key derived from the secret (or from its stored hash), so
changing the secret invalidates every cookie. Nothing here logs a secret.
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
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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


def hash_secret(secret: str) -> str:
    """The form in which a secret is stored with the state: ``sha256$<salt>$<digest>``.

    Raises:
        InvalidBypassSecretError: for a weak secret (see :func:`check_secret`).
    """
    salt = secrets.token_bytes(16)
    digest = hashlib.sha256(salt + check_secret(secret).encode()).digest()
    return f"{_HASH_SCHEME}${_b64(salt)}${_b64(digest)}"


class BypassKey:
    """One accepted secret: checks presented secrets and signs and checks cookies.

    Build it with :meth:`from_secret` (the middleware's ``bypass_secret``) or
    :meth:`from_hash` (a secret stored with the state).
    """

    __slots__ = ("_cookie_key", "_digest", "_salt")

    def __init__(self, salt: bytes, digest: bytes, cookie_key: bytes) -> None:
        self._salt = salt
        self._digest = digest
        self._cookie_key = cookie_key

    @classmethod
    def from_secret(cls, secret: str) -> BypassKey:
        """A key for a secret known in plain text.

        The cookie key depends only on the secret, so every worker and host
        configured with the same secret accepts the others' cookies.

        Raises:
            InvalidBypassSecretError: for a weak secret (see :func:`check_secret`).
        """
        raw = check_secret(secret).encode()
        digest = hashlib.sha256(raw).digest()
        return cls(b"", digest, hmac.new(raw, _COOKIE_CONTEXT, hashlib.sha256).digest())

    @classmethod
    def from_hash(cls, stored: str) -> BypassKey:
        """A key for a secret stored as :func:`hash_secret` wrote it.

        Raises:
            ValueError: if *stored* is not in that form.
        """
        scheme, _, rest = stored.partition("$")
        salt_text, _, digest_text = rest.partition("$")
        if scheme != _HASH_SCHEME or not salt_text or not digest_text:
            raise ValueError("'bypass' is not a sha256$<salt>$<digest> secret hash")
        try:
            salt, digest = _unb64(salt_text), _unb64(digest_text)
        except ValueError:
            raise ValueError("'bypass' is not valid base64") from None
        if len(digest) != hashlib.sha256().digest_size:
            raise ValueError("'bypass' holds a digest of the wrong length")
        return cls(salt, digest, hmac.new(digest, _COOKIE_CONTEXT, hashlib.sha256).digest())

    def matches(self, presented: bytes) -> bool:
        """Whether *presented* is the secret, in time independent of how close it is."""
        candidate = hashlib.sha256(self._salt + presented).digest()
        return hmac.compare_digest(candidate, self._digest)

    def cookie_value(self, expires: int) -> str:
        """A cookie value valid until the Unix time *expires*."""
        return f"{expires}.{self._sign(expires)}"

    def accepts_cookie(self, value: bytes, now: float) -> bool:
        """Whether *value* is an unexpired cookie signed by this key."""
        expires_text, dot, signature = value.partition(b".")
        if not dot or not expires_text.isdigit() or len(expires_text) > 12:
            return False
        expires = int(expires_text)
        if expires <= now:
            return False
        expected = self._sign(expires).encode("ascii")
        return hmac.compare_digest(expected, signature)

    def _sign(self, expires: int) -> str:
        mac = hmac.new(self._cookie_key, str(expires).encode("ascii"), hashlib.sha256)
        return _b64(mac.digest())


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
                accepted |= key.accepts_cookie(value, now)
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
            if _form_decode(name) == _PARAM:
                candidates.append(_form_decode(value))
            elif pair:
                kept.append(pair)
        key = next(
            (k for k in keys for candidate in candidates if k.matches(candidate)),
            None,
        )
        if key is None:
            return None
        expires = int(time.time()) + self.cookie_max_age
        cookie = (
            f"{BYPASS_COOKIE}={key.cookie_value(expires)}; Max-Age={self.cookie_max_age}; "
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
