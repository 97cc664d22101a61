"""The one outbound HTTP client: every request the services make to a URL someone else chose.

A feed, webhook or chat URL is attacker-controlled input, so the client is the SSRF guard:
- only `http` and `https`;
- every address a host resolves to is checked (loopback, private, link-local with the cloud
  metadata address, CGNAT, multicast, unspecified, reserved, and those inside IPv4-mapped, 6to4,
  Teredo and NAT64 IPv6 forms) on every new connection, in the resolver the connector uses, so the
  connection goes to the address that was checked and a DNS answer that changes between the check
  and the connect (rebinding) cannot slip past; literal IP hosts are checked before the request;
- `outbound_allow` (CIDR networks) lets tests and internal receivers through, explicitly;
- redirects are off unless asked for, and then each hop is checked again (at most
  `outbound_max_redirects`), with credentials dropped when a hop changes origin;
- bodies are read up to `max_bytes`, error bodies too: more raises TooLarge, or with
  `truncate=True` is cut (the status and the first bytes of a huge error page, never all of it);
  the whole exchange, redirects included, is bounded by `outbound_timeout_s`.

    async with Outbound(settings) as client:
        resp = await client.request("GET", url, max_bytes=1 << 20, redirects=True)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from services.common.redact import mask_url
from services.common.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = frozenset({"http", "https"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = ipaddress.ip_address("169.254.169.254")


class OutboundError(Exception):
    """A request the client refused or could not finish safely; the message says why."""


class Blocked(OutboundError, OSError):
    """The target is not allowed: a scheme other than http(s), or an internal address.
    (An OSError so aiohttp's connector passes it through its resolver error path.)"""


class TooLarge(OutboundError):
    """The response body is over the caller's `max_bytes`."""


class TooManyRedirects(OutboundError):
    """More redirects than `outbound_max_redirects`."""


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _range(ip: IPAddress) -> str | None:
    """The name of the non-public range `ip` is in, or None for a public unicast address."""
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip == _METADATA:
        return "link-local (cloud metadata)"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "CGNAT (100.64.0.0/10)"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def blocked_reason(address: str, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why `address` (an IP literal) may not be reached, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
    embedded = _embedded_v4(ip)
    if any(ip in net or (embedded is not None and embedded in net) for net in allow):
        return None
    if embedded is not None:
        if inner := _range(embedded):
            return f"{inner} (inside IPv6 {ip})"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return None  # ::ffff:a.b.c.d is a.b.c.d
    return _range(ip)


def networks(settings: Settings) -> list[IPNetwork]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.outbound_allow]


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_target(url: URL, allow: Sequence[IPNetwork]) -> None:
    """The checks a URL gets before any connection: scheme, host, and a literal IP's range."""
    if url.scheme not in SCHEMES:
        raise Blocked(f"scheme {url.scheme or '(none)'!r} not allowed; only http and https")
    host = url.host
    if not host:
        raise Blocked("URL without a host")
    if _ip_literal(host) and (reason := blocked_reason(host.strip("[]"), allow)):
        raise Blocked(f"{host} is {reason}; add it to NEWSWIRE_OUTBOUND_ALLOW if it is meant")


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` and refuses the host when any of its addresses is internal; the
    connector then connects only to these checked addresses."""

    def __init__(self, allow: Sequence[IPNetwork], inner: AbstractResolver | None = None) -> None:
        self.allow = list(allow)
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for r in results:
            if reason := blocked_reason(r["host"], self.allow):
                raise Blocked(
                    f"{host} resolves to {r['host']}, {reason}; "
                    "add it to NEWSWIRE_OUTBOUND_ALLOW if it is meant"
                )
        return results

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True)
class Response:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: str  # the last hop's
    truncated: bool = False  # the body was cut at max_bytes (only with truncate=True)


async def _read(resp: aiohttp.ClientResponse, max_bytes: int, truncate: bool) -> tuple[bytes, bool]:
    """At most `max_bytes` of the (decoded) body: more raises TooLarge, or is cut if `truncate`."""
    declared = resp.content_length
    if declared is not None and declared > max_bytes and not truncate:
        raise TooLarge(f"response of {declared} bytes; at most {max_bytes} are read")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        if size + len(chunk) > max_bytes:
            if not truncate:
                raise TooLarge(f"response body over {max_bytes} bytes")
            chunks.append(chunk[: max_bytes - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


class Outbound:
    """An aiohttp session behind the guard; one per process or task group (it pools connections)."""

    def __init__(
        self,
        settings: Settings,
        *,
        user_agent: str = "newswire/1 (+https://github.com/newswire)",
        resolver: AbstractResolver | None = None,
        limit: int = 100,  # connections at once (0: no cap, for callers that bound their own)
    ) -> None:
        self.settings = settings
        self.limit = limit
        self.allow = networks(settings)
        self.user_agent = user_agent
        self._inner_resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Outbound:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self.allow, self._inner_resolver),
            use_dns_cache=False,  # every new connection resolves, and is checked, again
            limit=self.limit,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.settings.outbound_timeout_s),
            headers={"User-Agent": self.user_agent},
            trust_env=False,  # no proxy from the environment: it would connect for us, unchecked
            auto_decompress=True,
        )
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
        json: Any = None,
        max_bytes: int = 1024 * 1024,
        redirects: bool = False,
        truncate: bool = False,
        timeout_s: float | None = None,
    ) -> Response:
        """One exchange; raises Blocked, TooLarge, TooManyRedirects, aiohttp.ClientError or
        TimeoutError. A redirect is returned as it is unless `redirects`."""
        if self._session is None:
            raise RuntimeError("use `async with Outbound(settings) as client`")
        session = self._session
        hdrs = CIMultiDict(headers or {})
        target = URL(url)
        hops = 0
        async with asyncio.timeout(timeout_s or self.settings.outbound_timeout_s):
            while True:
                check_target(target, self.allow)
                try:
                    resp = await session.request(
                        method, target, headers=hdrs, data=data, json=json, allow_redirects=False
                    )
                except aiohttp.ClientConnectorError as exc:
                    if isinstance(exc.os_error, Blocked):
                        raise exc.os_error from None
                    raise
                async with resp:
                    location = resp.headers.get("Location")
                    if not (redirects and resp.status in REDIRECTS and location):
                        body, cut = await _read(resp, max_bytes, truncate)
                        return Response(resp.status, resp.headers, body, str(target), cut)
                hops += 1
                if hops > self.settings.outbound_max_redirects:
                    raise TooManyRedirects(
                        f"more than {self.settings.outbound_max_redirects} redirects from {mask_url(str(url))}"
                    )
                try:
                    following = target.join(URL(location))
                except ValueError as exc:
                    raise OutboundError(
                        f"unusable redirect Location {mask_url(location)[:200]!r}"
                    ) from exc
                check_target(following, self.allow)
                if following.origin() != target.origin():
                    for name in CREDENTIAL_HEADERS:
                        hdrs.popall(name, None)
                if resp.status == 303 or (resp.status in (301, 302) and method != "HEAD"):
                    method, data, json = ("HEAD" if method == "HEAD" else "GET"), None, None
                target = following


__all__ = [
    "Blocked",
    "GuardedResolver",
    "Outbound",
    "OutboundError",
    "Response",
    "TooLarge",
    "TooManyRedirects",
    "blocked_reason",
    "check_target",
]
