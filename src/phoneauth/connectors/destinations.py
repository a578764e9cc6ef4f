"""Where connectors may send: public addresses only, unless the operator allows private ones.

A tenant's admin chooses a connector's endpoint; without this guard a test send could reach the
server's own loopback services, the cloud metadata address or the private network (SSRF). The
check runs on the address actually connected to: the shared client resolves a host name through
`PublicOnlyResolver`, and aiohttp connects to exactly the addresses it returned, so a DNS answer
cannot change between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The well-known NAT64 prefix: the address is the IPv4 one behind it (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IANA's special-purpose ranges that are not globally reachable, written out because older
# Python releases miss some in `is_global` (3.11.7 counts 192.0.0.8 as global).
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",  # multicast, reserved and broadcast
        "::/127",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
# inet_aton's legacy forms (`127.1`, `2130706433`, `0x7f.1`): digits, hex and dots only.
_LEGACY_IPV4 = re.compile(r"[0-9a-fx.]*[0-9][0-9a-fx.]*", re.IGNORECASE)


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address; every special-purpose range is refused.

    IPv4 addresses embedded in IPv6 (mapped `::ffff:a.b.c.d`, 6to4, NAT64) are judged by the IPv4
    address they lead to.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the socket connects to the IPv4 address
            return is_public_address(address.ipv4_mapped)
        if address in _NAT64:  # a DNS64 network's way to reach public IPv4 hosts
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
    if any(address in network for network in _NEVER_PUBLIC):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse_address(host: str) -> IPAddress | None:
    """The address a literal host names (`[::1]`, `127.0.0.1`, legacy `127.1`), else `None`."""
    text = host.strip("[]").split("%", 1)[0]  # an IPv6 zone (`fe80::1%eth0`) names no new address
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(text):
        try:  # a parse, no lookup: what the socket layer would make of the name
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def looks_like_address(host: str) -> bool:
    """Whether the HTTP stack connects to `host` without resolving it (aiohttp's own test)."""
    return ":" in host or host.replace(".", "").isdigit()


def is_private_literal(host: str) -> bool:
    """True for hosts that are non-public without any lookup: IP literals and `localhost`."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: always loopback
        return True
    address = parse_address(name)
    if address is not None:
        return not is_public_address(address)
    return looks_like_address(name)  # numeric, yet no address: never a public host name


def is_public_host_address(text: str) -> bool:
    """For a resolver's answer: an unparsable address counts as non-public."""
    address = parse_address(text)
    return address is not None and is_public_address(address)


class ForbiddenDestination(OSError):
    """Raised inside the HTTP stack when a host resolves to non-public addresses only."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} resolves to no public address")
        self.host = host


class PublicOnlyResolver(AbstractResolver):
    """Resolves through another resolver and keeps only public addresses.

    The connection is made to the addresses returned here, so the check and the connection see
    the same answer. A host with no public address raises `ForbiddenDestination`.
    """

    def __init__(self, inner: AbstractResolver) -> None:
        self.inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        public = [result for result in found if is_public_host_address(result["host"])]
        if not public:
            raise ForbiddenDestination(host.rstrip("."))
        return public

    async def close(self) -> None:
        await self.inner.close()
