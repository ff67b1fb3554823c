"""Ready-made ``exempt_handler`` functions: by path, by client address, or any of several.

::

    from maintenance_core.exemptions import any_of, exempt_client_ips, exempt_paths

    exempt_handler = any_of(
        exempt_paths("/health", "/admin", re.compile(r"/api/v\\d+/status")),
        exempt_client_ips("10.0.0.0/8", "::1", trusted_proxies=["192.0.2.10"]),
    )

The handlers work with every adapter: they read only ``request.scope``, which
the Starlette and Litestar request objects and the core's ``Connection`` all
expose. Everything that can be worked out once (parsed networks, prefixes,
compiled patterns) is worked out when the handler is built; a bad argument
raises then, not on the first request.

Paths
-----

The path matched is the path the app routes on, as the adapter reports it
(:func:`route_path`): ``scope["path"]`` with ``scope["root_path"]`` removed
when the path starts with it (on a ``/`` boundary), as Starlette 0.33 and newer
do; for Litestar's mounted apps, the path before Litestar rewrote it. The
ASGI server has already decoded its percent-encoding once (``/%61dmin`` on the
wire is ``/admin`` in the scope); it is **not** decoded a second time, so
``/%2561dmin`` stays ``/%61dmin`` and is not taken for ``/admin`` (double
decoding is a classic way round path checks). Comparison is case-sensitive.

The path is also normalised: ``//`` collapsed to ``/``, ``.`` segments dropped
and ``..`` segments resolved (never above ``/``). A request is exempt only when
**both** the path as routed and its normalised form match. Whichever of the two
the app, a proxy in front of it or a file server behind it ends up using, the
request stays inside the exempt area:

* ``/admin//users``, ``/admin/./users``: both forms are under ``/admin``: exempt;
* ``/admin/../shop``: normalised it is ``/shop``: not exempt;
* ``//admin``, ``/./admin``, ``/x/../admin``: only the normalised form is under
  ``/admin``; the router sees another path (and may send it to another
  endpoint): not exempt. Clients normalise such paths before sending them, so
  only hand-made requests look like this.

Client addresses
----------------

The client is ``scope["client"][0]``. ``X-Forwarded-For`` is believed only
when that direct peer is one of ``trusted_proxies``; the addresses in it (all
such headers, in order, comma-separated) are then read from the right, skipping
trusted proxies, and the first other address is the client. When every address
in it is a trusted proxy, the left-most one is the client; without the header
the peer itself is. An address that cannot be parsed (a Unix socket, the
``testclient`` of test clients, garbage in the header) is never exempt.
IPv4-mapped IPv6 addresses (``::ffff:10.0.0.5``, from dual-stack sockets) count
as their IPv4 address.
"""

from __future__ import annotations

import inspect
import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from ._adapter_base import ROUTING_PATH_KEY, default_routing_path
from .errors import ConfigurationError

__all__ = [
    "HasScope",
    "any_of",
    "exempt_client_ips",
    "exempt_paths",
    "normalise_path",
    "route_path",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NetworkSpec = str | IPNetwork | IPAddress
PathPattern = str | re.Pattern[str]

_R = TypeVar("_R")

_XFF = b"x-forwarded-for"


class HasScope(Protocol):
    """Any request object with an ASGI ``scope``: Starlette's, Litestar's, the core's."""

    @property
    def scope(self) -> Mapping[str, Any]: ...


# --- paths -----------------------------------------------------------------------------


def route_path(scope: Mapping[str, Any]) -> str:
    """The path the app routes on.

    The guard records it under :data:`~maintenance_core.adapter.ROUTING_PATH_KEY`
    from its adapter's ``routing_path`` hook before it calls an exempt handler,
    so a framework that rewrites ``scope["path"]`` (Litestar's mounted apps) is
    matched on the path the client sent. Without that key: ``scope["path"]``
    without a leading ``scope["root_path"]``, removed only on a ``/`` boundary
    (``/api`` is removed from ``/api/x``, not from ``/apix``); what remains is
    never empty (``"/"`` at least).
    """
    routed = scope.get(ROUTING_PATH_KEY)
    if isinstance(routed, str):
        return routed
    return default_routing_path(scope)


def normalise_path(path: str) -> str:
    """Collapse ``//``, drop ``.`` segments and resolve ``..`` (never above ``/``).

    No percent-decoding and no case folding. A trailing ``/`` is kept (and a
    path ending in a ``.`` or ``..`` segment gets one).
    """
    if "//" not in path and "/." not in path and path.startswith("/"):
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normal = "/" + "/".join(segments)
    if segments and (path.endswith("/") or path.endswith(("/.", "/.."))):
        normal += "/"
    return normal


def _check_prefix(prefix: str) -> str:
    if not prefix.startswith("/"):
        raise ConfigurationError(
            f"exempt_paths: a path prefix must start with '/', got {prefix!r}."
        )
    stripped = prefix.rstrip("/") or "/"
    if normalise_path(stripped) != stripped:
        raise ConfigurationError(
            f"exempt_paths: the path prefix {prefix!r} is not normalised "
            f"(no '//', '.' or '..' segments); did you mean {normalise_path(stripped)!r}?"
        )
    return stripped


def exempt_paths(*patterns: PathPattern) -> Callable[[HasScope], bool]:
    """An ``exempt_handler`` exempting requests by path.

    Args:
        patterns: path prefixes and compiled regular expressions, any mix.
            A prefix (``"/admin"``) matches that path and everything below it on
            a ``/`` boundary: ``/admin``, ``/admin/``, ``/admin/users``, but not
            ``/administrator``; a trailing ``/`` on the prefix changes nothing,
            and ``"/"`` matches every path. A ``re.Pattern[str]`` must match the
            **whole** path (``pattern.fullmatch``): ``re.compile(r"/api/v\\d+/health")``
            does not match ``/api/v1/health/x``.

    See the module documentation for which path is matched and how it is
    normalised.

    Raises:
        ConfigurationError: (a ``ValueError`` and ``TypeError``) for no pattern, a
            prefix that does not start with ``/`` or is not normalised, or a pattern
            that is neither a string nor a compiled ``str`` regex.
    """
    if not patterns:
        raise ConfigurationError("exempt_paths: give at least one path prefix or compiled pattern.")
    exact: set[str] = set()
    below: list[str] = []
    regexes: list[re.Pattern[str]] = []
    match_all = False
    for pattern in patterns:
        if isinstance(pattern, str):
            prefix = _check_prefix(pattern)
            if prefix == "/":
                match_all = True
            exact.add(prefix)
            below.append(prefix + "/")
        elif isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
            regexes.append(pattern)
        else:
            raise ConfigurationError(
                "exempt_paths: a pattern must be a path prefix string or a compiled "
                f"str regular expression (re.compile(...)), got {pattern!r}."
            )
    below_tuple = tuple(below)
    fullmatchers = tuple(regex.fullmatch for regex in regexes)

    def matches(path: str) -> bool:
        if path in exact or path.startswith(below_tuple):
            return True
        return any(fullmatch(path) is not None for fullmatch in fullmatchers)

    if match_all:

        def exempt_all(request: HasScope) -> bool:
            return True

        return exempt_all

    def is_exempt_path(request: HasScope) -> bool:
        path = route_path(request.scope)
        if not matches(path):
            return False
        normal = normalise_path(path)
        return normal == path or matches(normal)

    return is_exempt_path


# --- client addresses ------------------------------------------------------------------


def _parse_networks(argument: str, values: Iterable[NetworkSpec]) -> tuple[IPNetwork, ...]:
    if isinstance(values, (str, bytes)):
        raise ConfigurationError(
            f"exempt_client_ips: {argument} must be a list of networks, not a string."
        )
    networks: list[IPNetwork] = []
    for value in values:
        if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            networks.append(value)
        elif isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            networks.append(ipaddress.ip_network(value))
        elif isinstance(value, str):
            try:
                networks.append(ipaddress.ip_network(value.strip()))
            except ValueError as exc:
                raise ConfigurationError(
                    f"exempt_client_ips: {argument} has {value!r}, which is not an IP address "
                    f"or a network in CIDR notation such as '10.0.0.0/8' or '2001:db8::/32' "
                    f"({exc})."
                ) from None
        else:
            raise ConfigurationError(
                f"exempt_client_ips: {argument} has {value!r}; give CIDR strings or "
                "ipaddress network or address objects."
            )
    return tuple(networks)


def _parse_address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _in_any(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def _forwarded_for(scope: Mapping[str, Any]) -> list[str]:
    entries: list[str] = []
    for name, value in scope.get("headers") or ():
        if name == _XFF:
            entries.extend(item for item in value.decode("latin-1").split(",") if item.strip())
    return entries


def exempt_client_ips(
    *networks: NetworkSpec, trusted_proxies: Iterable[NetworkSpec] = ()
) -> Callable[[HasScope], bool]:
    """An ``exempt_handler`` exempting requests from some client addresses.

    Args:
        networks: the exempt clients: CIDR strings (``"10.0.0.0/8"``,
            ``"2001:db8::/32"``), bare addresses (``"10.0.0.5"`` meaning ``/32``,
            ``"::1"`` meaning ``/128``) or ``ipaddress`` network/address objects.
        trusted_proxies: the reverse proxies whose ``X-Forwarded-For`` is
            believed, in the same forms. Leave it empty when clients connect
            directly: the header is then ignored, so nobody can forge it.

    See the module documentation for how the client is found.

    Raises:
        ConfigurationError: (a ``ValueError`` and ``TypeError``) for no network, a
            string that is not an address or a network (including one with host
            bits set, such as ``"10.0.0.5/8"``), or a value of another type.
    """
    if not networks:
        raise ConfigurationError("exempt_client_ips: give at least one exempt network or address.")
    exempt = _parse_networks("networks", networks)
    proxies = _parse_networks("trusted_proxies", trusted_proxies)

    def client_address(scope: Mapping[str, Any]) -> IPAddress | None:
        client = scope.get("client")
        if not client:
            return None
        peer = _parse_address(str(client[0]))
        if peer is None or not proxies or not _in_any(peer, proxies):
            return peer
        forwarded = _forwarded_for(scope)
        address = peer
        for entry in reversed(forwarded):
            parsed = _parse_address(entry)
            if parsed is None:
                return None
            address = parsed
            if not _in_any(address, proxies):
                break
        return address

    def is_exempt_client(request: HasScope) -> bool:
        address = client_address(request.scope)
        return address is not None and _in_any(address, exempt)

    return is_exempt_client


# --- combining -------------------------------------------------------------------------


def any_of(*handlers: Callable[[_R], bool | Awaitable[bool]]) -> Callable[[_R], Awaitable[bool]]:
    """An ``exempt_handler`` exempting a request when any of *handlers* does.

    The handlers are called in order, sync or async (an awaitable result is
    awaited), and the first truthy answer ends the search. An exception raised
    by a handler propagates: the middleware logs it and the request is not
    exempt. The combined handler is async.

    Raises:
        ConfigurationError: (a ``ValueError`` and ``TypeError``) for no handler, or
            a handler that is not callable.
    """
    if not handlers:
        raise ConfigurationError("any_of: give at least one exempt handler.")
    for handler in handlers:
        if not callable(handler):
            raise ConfigurationError(f"any_of: every handler must be callable, got {handler!r}.")

    async def is_exempt_any(request: _R) -> bool:
        for handler in handlers:
            result = handler(request)
            if inspect.isawaitable(result):
                result = await result
            if result:
                return True
        return False

    return is_exempt_any
