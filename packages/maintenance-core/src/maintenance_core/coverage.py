"""Partial maintenance: which requests maintenance answers while it is on.

Whole-site maintenance answers every request (the default). Two limits narrow
it, alone or together:

- **read-only**: only unsafe requests get the maintenance response; ``GET``,
  ``HEAD`` and ``OPTIONS`` proceed. A websocket handshake counts as unsafe (a
  socket can write), so it is refused.
- **groups**: only requests to routes in one of the named groups get it. A
  route's groups are its OpenAPI tags and the names given with the adapters'
  ``maintenance_group()`` marker.

Markers keep their meaning: a route forced on refuses everything, a route forced
off accepts everything, whatever the coverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MAX_GROUPS",
    "MAX_GROUP_LENGTH",
    "SAFE_METHODS",
    "WHOLE_SITE",
    "Coverage",
    "normalize_groups",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that read-only maintenance lets through (RFC 9110 safe methods, without TRACE)."""

MAX_GROUPS = 64
"""How many groups one state may name."""

MAX_GROUP_LENGTH = 100
"""The longest group name, in characters."""


def normalize_groups(groups: Iterable[str] | str | None) -> frozenset[str]:
    """Check group names and return them as a set (empty: whole site).

    Raises:
        ValueError: for a name that is not a non-empty string of printable
            characters up to :data:`MAX_GROUP_LENGTH` long, or more than
            :data:`MAX_GROUPS` names. The message never repeats a name.
    """
    if groups is None:
        return frozenset()
    if isinstance(groups, str):
        # A single name is a common slip for a list of names: take it as one name.
        groups = (groups,)
    names: set[str] = set()
    for position, name in enumerate(groups, start=1):
        if not isinstance(name, str):
            raise ValueError(f"Group {position} is a {type(name).__name__}, not a string.")
        if not name.strip():
            raise ValueError(f"Group {position} is empty: name the group, e.g. 'payments'.")
        if len(name) > MAX_GROUP_LENGTH:
            raise ValueError(
                f"Group {position} is {len(name)} characters long: at most "
                f"{MAX_GROUP_LENGTH} are allowed."
            )
        if not name.isprintable():
            raise ValueError(f"Group {position} contains control characters.")
        names.add(name)
        if len(names) > MAX_GROUPS:
            raise ValueError(f"More than {MAX_GROUPS} groups: name at most {MAX_GROUPS}.")
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which requests maintenance answers while it is on.

    Attributes:
        read_only: only unsafe methods (and websocket handshakes) are answered.
        groups: only routes in one of these groups are answered; empty for all.
    """

    read_only: bool = False
    groups: frozenset[str] = frozenset()

    @property
    def whole_site(self) -> bool:
        """Every request is answered: neither read-only nor limited to groups."""
        return not self.read_only and not self.groups

    def covers(self, method: str | None, route_groups: frozenset[str]) -> bool:
        """Whether a request with *method* (``None`` for a websocket handshake) to
        a route in *route_groups* gets the maintenance response."""
        if self.groups and self.groups.isdisjoint(route_groups):
            return False
        return not (self.read_only and method in SAFE_METHODS)

    def union(self, other: Coverage) -> Coverage:
        """A coverage that answers at least every request either one answers.

        Read-only only if both are; limited to groups only if both are (then to
        both sets of groups, unless they are more than :data:`MAX_GROUPS`
        together). Where the exact union has no single form (one read-only for
        the whole site, one full for a group), it is widened.
        """
        if self == other:
            return self
        read_only = self.read_only and other.read_only
        groups = self.groups | other.groups if self.groups and other.groups else frozenset()
        if len(groups) > MAX_GROUPS:
            groups = frozenset()  # too many to store: every group, the safe direction
        return Coverage(read_only, groups)

    def describe(self) -> str:
        """A short phrase for logs and the CLI: ``"whole site"``, ``"read-only, groups: a, b"``."""
        parts = []
        if self.read_only:
            parts.append("read-only")
        if self.groups:
            parts.append("groups: " + ", ".join(sorted(self.groups)))
        return ", ".join(parts) if parts else "whole site"


WHOLE_SITE = Coverage()
"""Every request: maintenance as it always was."""
