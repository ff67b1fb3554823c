"""The stored maintenance state: on or off, an optional window, bypass secret and Retry-After,
and what it covers (the whole site, read-only, or some route groups).

A plain state is stored as ``"1"`` or ``"0"``, as fastapi-maintenance always
did, so files and keys written by older versions and by hand keep working. A
state with a window, a bypass secret or a ``Retry-After`` is stored as a small
JSON object::

    {"on": true, "start": "2026-11-21T22:00:00+00:00", "end": "2026-11-21T23:00:00+00:00",
     "bypass": "scrypt$16384$8$1$<salt>$<verifier>$<token digest>$<cookie key>",
     "retry_after": 600, "read_only": true, "groups": ["payments"]}

Readers of version 0.1.0 ignore the keys they do not know, so a state stored
with ``retry_after`` still reads there (without its ``Retry-After``). For the
same reason a state limited with ``read_only`` or ``groups`` would read as
whole-site maintenance in a reader that predates them: maintenance covers more,
never less.

The ``bypass`` value is what :func:`maintenance_core.bypass.hash_secret` wrote:
a slow salted hash of the secret and the random key that signs its cookies
(see :mod:`maintenance_core.bypass` for what a reader of the state can do with it).

A window is evaluated when the state is read, against this machine's clock:
maintenance is on from ``start`` (or now) until ``end`` (or until switched off)
and switches itself off at ``end`` without any process running a timer. Hosts
sharing a window through Redis should keep their clocks in sync (NTP).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .coverage import WHOLE_SITE, Coverage, normalize_groups
from .errors import InvalidStateValueError, InvalidWindowError

if TYPE_CHECKING:
    from .bypass import BypassKey

__all__ = [
    "NOTICE_SCOPE_KEY",
    "MaintenanceNotice",
    "MaintenanceState",
    "check_retry_after",
    "parse_moment",
]

_TRUTHY = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSY = frozenset({"0", "no", "n", "false", "f", "off", ""})

NOTICE_SCOPE_KEY = "maintenance.notice"
"""The ASGI scope key under which a refused request carries its :class:`MaintenanceNotice`."""


def parse_flag(raw: str) -> bool:
    """Parse a boolean word (see :func:`maintenance_core.backends.parse_state`)."""
    value = raw.strip().lower()
    if value in _TRUTHY:
        return True
    if value in _FALSY:
        return False
    raise InvalidStateValueError(raw)


def parse_moment(
    value: datetime | str | None, name: str, *, show_value: bool = True
) -> datetime | None:
    """Turn a window bound into an aware UTC datetime.

    Args:
        value: an aware ``datetime``, an ISO 8601 string with a UTC offset (or
            ``Z``), or ``None``.
        name: ``"start"`` or ``"end"``, for error messages.
        show_value: whether error messages may repeat *value* (not for stored states).

    Raises:
        InvalidWindowError: for a naive datetime, a string without an offset, or
            a string that is not ISO 8601.
    """
    if value is None:
        return None
    shown = f"{name}={value!r}" if show_value else name
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"  # Python 3.10's fromisoformat does not take "Z"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidWindowError(
                f"{shown} is not an ISO 8601 date and time: "
                "use e.g. '2026-11-21T22:00:00+00:00' or '2026-11-21T22:00Z'."
            ) from None
    elif isinstance(value, datetime):
        moment = value
    else:
        raise InvalidWindowError(
            f"{name} must be a datetime or an ISO 8601 string, got {type(value).__name__}."
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidWindowError(
            f"{shown} has no time zone: give an aware datetime "
            "(e.g. datetime.now(timezone.utc)) or an ISO 8601 string with an offset or 'Z'."
        )
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidWindowError(
            f"{shown} is out of range once converted to UTC: give a date "
            "between the years 1 and 9999."
        ) from None


def _is_retry_after(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_retry_after(value: object, name: str = "retry_after") -> None:
    """Raise ``ValueError`` unless *value* is ``None`` or a positive whole number of seconds."""
    if value is not None and not _is_retry_after(value):
        raise ValueError(f"{name} must be a positive whole number of seconds, got {value!r}.")


@dataclass(frozen=True)
class MaintenanceState:
    """What a backend stores.

    Attributes:
        on: the switch.
        start: when a window starts (aware, UTC), or ``None`` for "already".
        end: when a window ends (aware, UTC), or ``None`` for "until switched off".
        bypass: the stored hash of a bypass secret set with the state
            (``on --secret``), or ``None``. A hash in the older ``sha256$``
            form is kept as it is but lets nobody through (:attr:`bypass_key`
            is ``None``; a warning says to store the secret again).
        retry_after: seconds for ``Retry-After`` while this state decides
            (``on --retry``), or ``None`` for the configured value. A window's
            countdown to its end still wins.
        read_only: only unsafe requests get the maintenance response
            (:mod:`maintenance_core.coverage`).
        groups: only requests to routes in these groups get it; empty for all.

    Raises:
        ValueError: for a *retry_after* that is not a positive whole number, or
            group names that :func:`~maintenance_core.coverage.normalize_groups`
            refuses.
    """

    on: bool
    start: datetime | None = None
    end: datetime | None = None
    bypass: str | None = None
    retry_after: int | None = None
    read_only: bool = False
    groups: frozenset[str] = frozenset()
    _start_ts: float = field(init=False, repr=False, compare=False, default=-math.inf)
    _end_ts: float = field(init=False, repr=False, compare=False, default=math.inf)
    _bypass_key: BypassKey | None = field(init=False, repr=False, compare=False, default=None)
    _coverage: Coverage = field(init=False, repr=False, compare=False, default=WHOLE_SITE)

    def __post_init__(self) -> None:
        check_retry_after(self.retry_after)
        if not isinstance(self.read_only, bool):
            raise ValueError("read_only must be True or False.")
        groups = normalize_groups(self.groups)
        object.__setattr__(self, "groups", groups)
        if self.read_only or groups:
            object.__setattr__(self, "_coverage", Coverage(self.read_only, groups))
        # Computed once per state (per change), not once per request.
        if self.start is not None:
            object.__setattr__(self, "_start_ts", self.start.timestamp())
        if self.end is not None:
            object.__setattr__(self, "_end_ts", self.end.timestamp())
        if self.bypass is not None:
            from .bypass import key_for_stored

            object.__setattr__(self, "_bypass_key", key_for_stored(self.bypass))

    @classmethod
    def scheduled(
        cls,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        *,
        now: float | None = None,
    ) -> MaintenanceState:
        """An ``on`` state limited to a window.

        Raises:
            InvalidWindowError: for bounds that are not aware datetimes or ISO
                8601 strings, an end not after the start, or an end already past.
        """
        start_at = parse_moment(start, "start")
        end_at = parse_moment(end, "end")
        if start_at is not None and end_at is not None and end_at <= start_at:
            raise InvalidWindowError(
                f"The window ends ({end_at.isoformat()}) before it starts "
                f"({start_at.isoformat()}): give an end after the start."
            )
        current = time.time() if now is None else now
        if end_at is not None and end_at.timestamp() <= current:
            raise InvalidWindowError(
                f"The window's end ({end_at.isoformat()}) is already past: "
                "maintenance would never be on. Give an end in the future."
            )
        return cls(True, start_at, end_at)

    @property
    def is_plain(self) -> bool:
        """No window, bypass secret or ``Retry-After``: storable as ``"1"``/``"0"``."""
        return (
            self.start is None
            and self.end is None
            and self.bypass is None
            and self.retry_after is None
            and not self.read_only
            and not self.groups
        )

    @property
    def coverage(self) -> Coverage:
        """Which requests this state answers while it is on."""
        return self._coverage

    def with_coverage(self, coverage: Coverage) -> MaintenanceState:
        """This state limited to *coverage* (whole site, read-only, groups)."""
        return replace(self, read_only=coverage.read_only, groups=coverage.groups)

    def with_retry_after(self, seconds: int | None) -> MaintenanceState:
        """This state with *seconds* stored for ``Retry-After`` (``None``: this state).

        Raises:
            ValueError: for *seconds* that is not a positive whole number.
        """
        if seconds is None:
            return self
        check_retry_after(seconds, "Retry-After")
        return replace(self, retry_after=seconds)

    @property
    def bypass_key(self) -> BypassKey | None:
        """The stored bypass secret, ready to check requests against (``None`` for none,
        and for a hash in the older ``sha256$`` form, which is no longer accepted)."""
        return self._bypass_key

    def is_on_at(self, now: float) -> bool:
        """Whether maintenance is on at the Unix time *now*."""
        return self.on and self._start_ts <= now < self._end_ts

    def is_on_now(self) -> bool:
        """Whether maintenance is on at this moment."""
        if self.start is None and self.end is None:
            return self.on
        return self.is_on_at(time.time())

    def seconds_left(self, now: float) -> int | None:
        """Whole seconds (at least 1) until the window ends, if it has an end."""
        if self.end is None:
            return None
        return max(1, math.ceil(self._end_ts - now))

    def overridden(self, on: bool, coverage: Coverage = WHOLE_SITE) -> MaintenanceState:
        """This state switched *on* or off without a window, keeping its bypass
        secret, and covering *coverage* (the whole site by default)."""
        return replace(
            self,
            on=on,
            start=None,
            end=None,
            read_only=coverage.read_only,
            groups=coverage.groups,
        )

    def to_text(self) -> str:
        """The stored form: ``"1"``/``"0"`` for a plain state, else JSON."""
        if self.is_plain:
            return "1" if self.on else "0"
        data: dict[str, Any] = {"on": self.on}
        if self.start is not None:
            data["start"] = self.start.isoformat()
        if self.end is not None:
            data["end"] = self.end.isoformat()
        if self.bypass is not None:
            data["bypass"] = self.bypass
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        if self.read_only:
            data["read_only"] = True
        if self.groups:
            data["groups"] = sorted(self.groups)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_text(cls, raw: str) -> MaintenanceState:
        """Parse a stored value: a boolean word or the JSON form.

        Raises:
            InvalidStateValueError: for anything else.
        """
        text = raw.strip().lstrip("\ufeff").strip()  # a byte order mark left by an editor
        if not text.startswith("{"):
            return ON if parse_flag(text) else OFF
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("on"), bool):
                raise ValueError("no boolean 'on'")
            bypass = data.get("bypass")
            if bypass is not None and not isinstance(bypass, str):
                raise ValueError("'bypass' is not a string")
            retry_after = data.get("retry_after")
            if retry_after is not None and not _is_retry_after(retry_after):
                raise ValueError("'retry_after' is not a positive whole number")
            read_only = data.get("read_only", False)
            if not isinstance(read_only, bool):
                raise ValueError("'read_only' is not a boolean")
            groups = data.get("groups", [])
            if not isinstance(groups, list):
                raise ValueError("'groups' is not a list")
            return cls(
                data["on"],
                parse_moment(data.get("start"), "start", show_value=False),
                parse_moment(data.get("end"), "end", show_value=False),
                bypass,
                retry_after,
                read_only,
                normalize_groups(groups),
            )
        except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: deep nesting
            # json's own messages give positions, never the text.
            reason = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
            raise InvalidStateValueError(
                raw, f"not a valid maintenance state object ({reason})"
            ) from None


ON = MaintenanceState(True)
OFF = MaintenanceState(False)


@dataclass(frozen=True, slots=True)
class MaintenanceNotice:
    """What a refused request learns about the maintenance it meets.

    The guard puts it in the ASGI scope under :data:`NOTICE_SCOPE_KEY` before
    calling a ``response_handler``, so a custom response can show when the
    service should be back (``request.scope["maintenance.notice"]``).

    Attributes:
        end: when the current window ends, if it has an end.
        retry_after: the seconds sent in ``Retry-After``.
        coverage: what the maintenance covers (read-only, groups), see
            :mod:`maintenance_core.coverage`.
    """

    end: datetime | None
    retry_after: int | None
    coverage: Coverage = WHOLE_SITE
