"""Which addresses connectors may reach: public ones only, judged on what the socket connects to."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from phoneauth.connectors.destinations import (
    ForbiddenDestination,
    PublicOnlyResolver,
    is_private_literal,
    is_public_address,
    parse_address,
)

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:db8::1",  # documentation
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_special_purpose_addresses_are_not_public(text: str) -> None:
    assert not is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_global_unicast_addresses_are_public(text: str) -> None:
    assert is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_legacy_and_bracketed_literals_parse_to_the_address_the_socket_would_use(
    host: str, address: str
) -> None:
    assert parse_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0.0.0.0",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
        "10.0.0.7",
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "999.1.1.1",
    ],
)
def test_literal_private_hosts_are_known_without_a_lookup(host: str) -> None:
    assert is_private_literal(host)


@pytest.mark.parametrize("host", ["api.twilio.com", "93.184.215.14", "gw.example.com", "my-vm"])
def test_names_and_public_literals_are_left_to_the_resolver(host: str) -> None:
    assert not is_private_literal(host)


class Answers(AbstractResolver):
    """A resolver that answers from a table, as DNS would (including a rebinding DNS)."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "addresses", [["127.0.0.1"], ["10.0.0.1", "::1"], ["169.254.169.254"], ["not-an-address"]]
)
async def test_a_name_with_only_non_public_addresses_is_refused(addresses: list[str]) -> None:
    with pytest.raises(ForbiddenDestination) as info:
        await PublicOnlyResolver(Answers(addresses)).resolve("internal.example.", 443)
    assert info.value.host == "internal.example"


async def test_only_the_public_addresses_of_a_mixed_answer_are_connected_to() -> None:
    resolver = PublicOnlyResolver(Answers(["127.0.0.1", "93.184.215.14", "fd00::1"]))
    found = await resolver.resolve("mixed.example", 443)
    assert [result["host"] for result in found] == ["93.184.215.14"]
