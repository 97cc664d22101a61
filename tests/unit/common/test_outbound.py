"""The outbound guard's pure parts: which addresses are refused, schemes, the resolver check."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from services.common.outbound import Blocked, GuardedResolver, blocked_reason, check_target


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("100.64.0.1", "CGNAT (100.64.0.0/10)"),
        ("100.127.255.254", "CGNAT (100.64.0.0/10)"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:100.64.0.1", "CGNAT"),
        ("2002:7f00:1::", "loopback (inside IPv6"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata) (inside IPv6"),  # NAT64
    ],
)
def test_internal_ranges_are_blocked(address: str, reason: str) -> None:
    got = blocked_reason(address)
    assert got is not None and got.startswith(reason), got


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(address) is None


def test_the_allow_list_opens_exactly_its_networks() -> None:
    allow = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.8.0.0/16")]
    assert blocked_reason("127.0.0.1", allow) is None
    assert blocked_reason("::ffff:127.0.0.1", allow) is None  # the same host
    assert blocked_reason("10.8.3.4", allow) is None
    assert blocked_reason("127.0.0.2", allow) == "loopback"
    assert blocked_reason("10.9.0.1", allow) == "private"
    assert blocked_reason("169.254.169.254", allow) == "link-local (cloud metadata)"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "gopher://example.org/",
        "data:text/plain,x",
        "http://127.0.0.1:6379/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8080/",
        "http://10.0.0.1/",
    ],
)
def test_check_target_refuses_schemes_and_literal_internal_hosts(url: str) -> None:
    with pytest.raises(Blocked):
        check_target(URL(url), [])


def test_check_target_lets_public_hosts_through_to_the_resolver() -> None:
    check_target(URL("https://example.org/feed"), [])
    check_target(URL("http://8.8.8.8/"), [])


class FakeDNS(AbstractResolver):
    """Answers from a script: one list of addresses per lookup (a rebinding DNS server)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return [
            {
                "hostname": host,
                "host": a,
                "port": port,
                "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for a in addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_refuses_a_host_with_any_internal_address() -> None:
    guard = GuardedResolver([], FakeDNS(["93.184.216.34", "169.254.169.254"]))
    with pytest.raises(Blocked, match=r"evil\.test resolves to 169\.254\.169\.254"):
        await guard.resolve("evil.test", 80)


async def test_resolver_checks_every_lookup_so_rebinding_is_caught() -> None:
    """The first answer is public, the next (the rebind) is loopback: the second lookup, made
    for the next connection, is refused; the connector connects only to checked answers."""
    dns = FakeDNS(["93.184.216.34"], ["127.0.0.1"])
    guard = GuardedResolver([], dns)
    first = await guard.resolve("rebind.test", 80)
    assert [r["host"] for r in first] == ["93.184.216.34"]
    with pytest.raises(Blocked, match="loopback"):
        await guard.resolve("rebind.test", 80)
    assert dns.lookups == 2
