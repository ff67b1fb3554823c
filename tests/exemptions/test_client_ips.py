"""``exempt_client_ips`` on raw scopes: networks, IPv4/IPv6 and X-Forwarded-For."""

from __future__ import annotations

import ipaddress

import pytest
from maintenance_core.exemptions import exempt_client_ips

from .helpers import request

PROXY = "192.0.2.10"
ATTACKER = "203.0.113.7"


def xff(*values: str) -> list[tuple[bytes, bytes]]:
    return [(b"x-forwarded-for", value.encode("latin-1")) for value in values]


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("10.0.0.5", True),
        ("10.255.255.255", True),
        ("11.0.0.1", False),
        ("2001:db8::1", True),
        ("2001:db8:ffff::1", True),
        ("2001:db9::1", False),
        ("::1", True),  # bare address: /128
        ("::2", False),
        ("192.168.1.20", True),  # bare address: /32
        ("192.168.1.21", False),
        ("::ffff:10.0.0.5", True),  # IPv4-mapped, as dual-stack sockets report IPv4 peers
        ("::ffff:11.0.0.1", False),
    ],
)
def test_networks_and_bare_addresses(client: str, expected: bool) -> None:
    handler = exempt_client_ips("10.0.0.0/8", "2001:db8::/32", "::1", "192.168.1.20")
    assert handler(request(client=(client, 1234))) is expected


def test_ipaddress_objects_are_accepted() -> None:
    handler = exempt_client_ips(
        ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_address("2001:db8::5")
    )
    assert handler(request(client=("10.0.0.200", 1)))
    assert handler(request(client=("2001:db8::5", 1)))
    assert not handler(request(client=("2001:db8::6", 1)))
    assert not handler(request(client=("10.0.1.1", 1)))


@pytest.mark.parametrize(
    "client",
    [None, ("testclient", 50000), ("/run/app.sock", 0), ("", 0), ("10.0.0.300", 1)],
    ids=["no-client", "testclient", "unix-socket", "empty", "bad-ipv4"],
)
def test_unparsable_or_missing_client_is_not_exempt(client: tuple[str, int] | None) -> None:
    assert not exempt_client_ips("0.0.0.0/0", "::/0")(request(client=client))


# --- X-Forwarded-For ---------------------------------------------------------------


def test_xff_ignored_without_trusted_proxies() -> None:
    handler = exempt_client_ips("10.0.0.0/8")
    assert not handler(request(client=(ATTACKER, 1), headers=xff("10.0.0.5")))


def test_spoofed_xff_from_untrusted_peer_is_ignored() -> None:
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=[PROXY])
    assert not handler(request(client=(ATTACKER, 1), headers=xff("10.0.0.5")))


def test_xff_believed_from_trusted_proxy() -> None:
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=[PROXY])
    assert handler(request(client=(PROXY, 1), headers=xff("10.0.0.5")))
    assert not handler(request(client=(PROXY, 1), headers=xff(ATTACKER)))


def test_spoofed_left_entries_do_not_count() -> None:
    # The attacker sent "X-Forwarded-For: 10.0.0.5"; the proxy appended the real address.
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=[PROXY])
    assert not handler(request(client=(PROXY, 1), headers=xff(f"10.0.0.5, {ATTACKER}")))
    # The other way round, 10.0.0.5 is what the proxy saw: the left entry is ignored.
    assert handler(request(client=(PROXY, 1), headers=xff(f"{ATTACKER}, 10.0.0.5")))


def test_chain_of_trusted_proxies_is_skipped_from_the_right() -> None:
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=["192.0.2.0/24"])
    assert handler(request(client=(PROXY, 1), headers=xff("10.0.0.5, 192.0.2.11, 192.0.2.12")))
    assert not handler(request(client=(PROXY, 1), headers=xff(f"10.0.0.5, {ATTACKER}, 192.0.2.11")))


def test_multiple_xff_headers_are_read_in_order() -> None:
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=[PROXY])
    # The last header holds the right-most entries.
    assert handler(request(client=(PROXY, 1), headers=xff(ATTACKER, "10.0.0.5")))
    assert not handler(request(client=(PROXY, 1), headers=xff("10.0.0.5", ATTACKER)))
    assert not handler(request(client=(PROXY, 1), headers=xff("10.0.0.5", f"10.0.0.6,{ATTACKER}")))


def test_other_headers_are_ignored() -> None:
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=[PROXY])
    headers = [(b"x-real-ip", b"10.0.0.5"), (b"forwarded", b"for=10.0.0.5")]
    assert not handler(request(client=(PROXY, 1), headers=headers))


def test_without_xff_the_trusted_peer_is_the_client() -> None:
    handler = exempt_client_ips(PROXY, trusted_proxies=[PROXY])
    assert handler(request(client=(PROXY, 1)))
    assert not handler(request(client=(PROXY, 1), headers=xff(ATTACKER)))


def test_when_every_entry_is_a_proxy_the_left_most_is_the_client() -> None:
    handler = exempt_client_ips("192.0.2.11", trusted_proxies=["192.0.2.0/24"])
    assert handler(request(client=(PROXY, 1), headers=xff("192.0.2.11, 192.0.2.12")))
    assert not handler(request(client=(PROXY, 1), headers=xff("192.0.2.12, 192.0.2.11")))


def test_garbage_where_the_client_should_be_is_not_exempt() -> None:
    handler = exempt_client_ips("0.0.0.0/0", trusted_proxies=[PROXY])
    assert not handler(request(client=(PROXY, 1), headers=xff("10.0.0.5, not-an-ip")))
    assert not handler(request(client=(PROXY, 1), headers=xff("10.0.0.5:8080")))


def test_garbage_left_of_the_client_is_never_read() -> None:
    handler = exempt_client_ips("10.0.0.0/8", trusted_proxies=[PROXY])
    assert handler(request(client=(PROXY, 1), headers=xff("garbage, 10.0.0.5")))


def test_xff_with_ipv6() -> None:
    handler = exempt_client_ips("2001:db8::/32", trusted_proxies=["fd00::/8"])
    assert handler(request(client=("fd00::1", 1), headers=xff("2001:db8::7")))
    assert handler(request(client=("fd00::1", 1), headers=xff(" 2001:db8::7 , fd00::2")))
    assert not handler(request(client=("2001:db9::1", 1), headers=xff("2001:db8::7")))


# --- construction ------------------------------------------------------------------


@pytest.mark.parametrize(
    "network", ["10.0.0.300", "10.0.0.0/33", "10.0.0.5/8", "nonsense", "", "2001:db8::g"]
)
def test_invalid_networks_raise_value_error(network: str) -> None:
    with pytest.raises(ValueError, match=r"networks has .* not an IP address or a network"):
        exempt_client_ips(network)


def test_invalid_trusted_proxy_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"trusted_proxies has 'proxy\.local'"):
        exempt_client_ips("10.0.0.0/8", trusted_proxies=["proxy.local"])


def test_trusted_proxies_as_a_single_string_is_refused() -> None:
    with pytest.raises(TypeError, match="list of networks"):
        exempt_client_ips("10.0.0.0/8", trusted_proxies="192.0.2.10")


def test_no_network_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        exempt_client_ips(trusted_proxies=[PROXY])


@pytest.mark.parametrize("network", [167772160, None, b"10.0.0.0/8"])
def test_other_types_are_refused(network: object) -> None:
    with pytest.raises(TypeError, match="CIDR strings"):
        exempt_client_ips(network)  # type: ignore[arg-type]
