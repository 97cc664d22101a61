"""The outbound client against loopback servers: refused without the allow-list, served with
it; redirects off by default and re-checked per hop; bounded bodies; timeouts; rebinding."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from services.common.outbound import Blocked, Outbound, TooLarge, TooManyRedirects
from services.common.settings import Settings
from tests.conftest import free_port
from tests.unit.common.test_outbound import FakeDNS

pytestmark = pytest.mark.integration
BASE = Settings(_env_file=None, outbound_timeout_s=5.0)  # type: ignore[call-arg]
LOCAL = BASE.model_copy(update={"outbound_allow": ["127.0.0.1/32"]})


class Target:
    """A loopback HTTP server whose routes play the hostile or slow target."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[dict[str, str]] = []

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(dict(request.headers))
        name = request.match_info["name"]
        if name == "ok":
            return web.Response(text="hello", headers={"Connection": "close"})
        if name == "big":
            return web.Response(body=b"x" * (3 * 1024 * 1024))
        if name == "error":  # a 500 whose body never ends well: 8 MB
            return web.Response(status=500, body=b"e" * (8 * 1024 * 1024))
        if name == "chunked":  # no Content-Length: the cap must hold while streaming
            resp = web.StreamResponse()
            await resp.prepare(request)
            for _ in range(40):
                await resp.write(b"c" * 65536)
            await resp.write_eof()
            return resp
        if name == "slow":
            await asyncio.sleep(3)
            return web.Response(text="late")
        if name == "loop":
            raise web.HTTPFound(self.url("/loop"))
        if name == "metadata":
            raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data/")
        if name == "v6":
            raise web.HTTPFound(f"http://[::1]:{self.port}/ok")
        if name == "hop":
            raise web.HTTPFound("/ok")
        if name == "away":
            raise web.HTTPFound(request.query["to"])
        raise web.HTTPNotFound()


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[Target]:
    t = Target()
    app = web.Application()
    app.router.add_route("*", "/{name}", t.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", t.port).start()
    try:
        yield t
    finally:
        await runner.cleanup()


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with serving() as t:
        yield t


async def _get(settings: Settings, url: str, **kw: Any) -> Any:
    async with Outbound(settings) as c:
        return await c.request("GET", url, **kw)


async def test_loopback_is_refused_without_the_allow_list_and_served_with_it(
    target: Target,
) -> None:
    with pytest.raises(Blocked, match="loopback"):
        await _get(BASE, target.url("/ok"))
    assert target.seen == []  # refused before any connection
    resp = await _get(LOCAL, target.url("/ok"))
    assert (resp.status, resp.body) == (200, b"hello")


async def test_a_hostname_is_checked_on_what_it_resolves_to(target: Target) -> None:
    for settings, dns in ((BASE, FakeDNS(["127.0.0.1"])), (LOCAL, FakeDNS(["127.0.0.1"]))):
        async with Outbound(settings, resolver=dns) as c:
            if settings is BASE:
                with pytest.raises(Blocked, match=r"feed\.test resolves to 127\.0\.0\.1"):
                    await c.request("GET", target.url("/ok", host="feed.test"))
            else:
                resp = await c.request("GET", target.url("/ok", host="feed.test"))
                assert resp.body == b"hello"


async def test_rebinding_to_another_address_is_refused_on_the_next_connection(
    target: Target,
) -> None:
    """The first answer is allowed, the rebind (127.0.0.2) is not: each connection resolves
    and is checked again (the server closes every connection)."""
    dns = FakeDNS(["127.0.0.1"], ["127.0.0.2"])
    async with Outbound(LOCAL, resolver=dns) as c:
        assert (await c.request("GET", target.url("/ok", host="rebind.test"))).status == 200
        with pytest.raises(Blocked, match=r"127\.0\.0\.2, loopback"):
            await c.request("GET", target.url("/ok", host="rebind.test"))
    assert dns.lookups == 2 and len(target.seen) == 1


async def test_redirects_are_off_by_default_and_each_hop_is_checked(target: Target) -> None:
    resp = await _get(LOCAL, target.url("/metadata"))
    assert resp.status == 307 and "169.254.169.254" in resp.headers["Location"]
    with pytest.raises(Blocked, match="cloud metadata"):
        await _get(LOCAL, target.url("/metadata"), redirects=True)
    with pytest.raises(Blocked, match="loopback"):  # [::1] is not in the allow-list
        await _get(LOCAL, target.url("/v6"), redirects=True)
    with pytest.raises(Blocked, match="scheme 'file'"):
        await _get(LOCAL, target.url("/away?to=file:///etc/passwd"), redirects=True)
    followed = await _get(LOCAL, target.url("/hop"), redirects=True)
    assert (followed.status, followed.body, followed.url) == (200, b"hello", target.url("/ok"))
    with pytest.raises(TooManyRedirects):
        await _get(LOCAL, target.url("/loop"), redirects=True)


async def test_credentials_do_not_follow_a_redirect_to_another_origin(target: Target) -> None:
    async with serving() as other, Outbound(LOCAL) as c:
        await c.request(
            "GET",
            target.url(f"/away?to={other.url('/ok')}"),
            headers={"Authorization": "Bearer s3cret"},
            redirects=True,
        )
    assert target.seen[0].get("Authorization") == "Bearer s3cret"
    assert "Authorization" not in other.seen[0]


async def test_bodies_are_bounded_error_bodies_too(target: Target) -> None:
    with pytest.raises(TooLarge, match="at most 1048576"):
        await _get(LOCAL, target.url("/big"), max_bytes=1024 * 1024)
    with pytest.raises(TooLarge, match="over 1048576"):
        await _get(LOCAL, target.url("/chunked"), max_bytes=1024 * 1024)
    err = await _get(LOCAL, target.url("/error"), max_bytes=4096, truncate=True)
    assert (err.status, len(err.body), err.truncated) == (500, 4096, True)


async def test_a_slow_target_times_out(target: Target) -> None:
    with pytest.raises(TimeoutError):
        await _get(LOCAL, target.url("/slow"), timeout_s=0.5)
