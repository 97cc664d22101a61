"""The dashboard in real headless Chromium: an alert appears live, survives a reload, has a detail
view with highlights and a dot on the map; a screenshot is saved as a test artifact."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from pydantic import SecretStr

from services.common.kafka import ensure_topics
from services.common.settings import PROJECT_ROOT, Settings
from services.common.topics import RedisKeys
from services.common.topology import SERVICES
from services.dashboard.app import make_app
from services.delivery.sink import RedisDelivery
from services.devstack.supervise import check_alive, running_services
from tests.conftest import free_port, settings_env
from tests.e2e.cdp import chromium, chromium_path
from tests.factories import make_alert

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
FEED_ITEM = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Drone attack on Odesa port {marker}</title><link>https://feeds.test/{marker}</link>
<description>&lt;p&gt;Russian drones attacked the port of Odesa overnight, killing two people.&lt;/p&gt;</description>
</item></channel></rss>"""
ARTIFACTS = Path(
    os.environ.get("NEWSWIRE_TEST_ARTIFACTS", PROJECT_ROOT / ".newswire" / "artifacts")
)
CHROMIUM = chromium_path()


def _wait_http(url: str, procs: dict[str, Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        check_alive(procs)
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def services(stack: Settings) -> Iterator[str]:
    """The four pipeline services and the dashboard as processes; yields the dashboard URL."""
    asyncio.run(ensure_topics(stack))
    port = free_port()
    env = {
        **settings_env(stack),
        "NEWSWIRE_DASHBOARD_PORT": str(port),
        # the feed test serves its feed on loopback, which the outbound guard refuses unless allowed
        "NEWSWIRE_OUTBOUND_ALLOW": '["127.0.0.1/32"]',
    }
    with running_services(
        (*SERVICES, "dashboard"), env=env, log_dir=stack.state_dir / "logs"
    ) as procs:
        _wait_http(f"http://127.0.0.1:{stack.http_port}/health", procs)
        _wait_http(f"http://127.0.0.1:{port}/health", procs)
        yield f"http://127.0.0.1:{port}/"
        check_alive(procs)


ALERT_ROW = "document.querySelector('#alerts li[data-alert-id] .title')"


@pytest.fixture
def dashboard(services: str) -> str:
    if CHROMIUM is None:
        pytest.skip(
            "Chromium is not installed (Debian package `chromium`; `make setup` installs it)"
        )
    return services


async def test_alert_appears_live_with_detail_map_and_survives_reload(
    dashboard: str, stack: Settings, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    marker = uuid.uuid4().hex[:8]
    title = f"Missile strike hits fuel depot {marker}"
    find = f"[...document.querySelectorAll('#alerts li')].find(li => li.textContent.includes('{marker}'))"
    async with chromium(CHROMIUM, tmp_path / "profile") as page:
        await page.call("Page.enable")
        await page.call("Page.navigate", url=dashboard)
        assert await page.wait_for("document.body.dataset.ready === '1'"), "no SSE connection"
        assert await page.wait_for("document.querySelectorAll('#land path').length > 0")
        assert not await page.eval(f"!!{find}")

        async with aiohttp.ClientSession() as http:  # ingest while the page is open
            resp = await http.post(
                f"http://127.0.0.1:{stack.http_port}/articles",
                json={
                    "title": title,
                    "body": "A ballistic missile strike hit a fuel depot near Kharkiv overnight, "
                    "officials in Ukraine said.",
                },
            )
            assert resp.status == 202
        assert await page.wait_for(f"!!{find}", timeout=90), "the alert did not appear"
        severity = await page.eval(f"{find}.dataset.severity")
        assert severity in ("low", "medium", "high", "critical")
        assert await page.eval(f"{find}.classList.contains('sev-{severity}')")

        await page.eval(f"{find}.click()")
        assert await page.wait_for(
            "document.querySelectorAll('#detail-body mark.term').length > 0", timeout=30
        ), "no highlighted matched term in the detail view"
        detail = await page.eval("document.getElementById('detail').textContent")
        assert marker in detail and "fuel depot" in detail
        assert await page.eval("document.querySelectorAll('#detail-body mark.entity').length > 0")
        article_id = await page.eval(f"{find}.dataset.articleId")
        async with aiohttp.ClientSession() as http:  # the article text kept for the detail view
            for _ in range(60):
                async with http.get(f"{dashboard}api/articles/{article_id}") as r:
                    if r.status == 200:
                        assert "near Kharkiv overnight" in (await r.json())["body"]
                        break
                await asyncio.sleep(0.5)
            else:
                pytest.fail("the dashboard did not keep the article text")
        assert await page.wait_for("!!document.querySelector('#dots circle[data-country=UA]')")

        assert await page.wait_for(
            "[...document.querySelectorAll('#stats tbody tr')].some("
            "tr => tr.cells[0].textContent === 'raw' && Number(tr.cells[1].textContent) > 0)",
            timeout=30,
        ), "the throughput panel does not count the raw topic"
        assert await page.eval("document.querySelectorAll('#lag tbody tr').length") == 3

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = await page.call("Page.captureScreenshot", format="png")
        png = base64.b64decode(shot["data"])
        assert png.startswith(b"\x89PNG")
        (ARTIFACTS / "dashboard.png").write_bytes(png)

        # Filters hide it; a reload brings everything back from the stream.
        await page.eval(f"document.querySelector('input[value={severity}]').click()")
        assert await page.eval(f"{find}.hidden")
        await page.call("Page.reload")
        assert await page.wait_for("document.body.dataset.ready === '1'")
        assert await page.wait_for(f"!!{find} && !{find}.hidden", timeout=30)


async def test_feed_added_on_the_command_line_is_polled_by_ingest_into_an_alert(
    services: str, stack: Settings
) -> None:
    marker = uuid.uuid4().hex[:8]
    doc = FEED_ITEM.format(marker=marker).encode()
    conditional: list[bool] = []

    async def handle(request: web.Request) -> web.Response:
        conditional.append(request.headers.get("If-None-Match") == '"v1"')
        if conditional[-1]:
            return web.Response(status=304)
        return web.Response(body=doc, headers={"ETag": '"v1"'}, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/feed.xml"
    cli = [sys.executable, "-m", "services.cli", "feeds"]
    env = {**os.environ, **settings_env(stack)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, check=False)

    try:
        added = await asyncio.to_thread(run, "add", url, "--interval", "1")
        assert added.returncode == 0 and "added" in added.stdout
        client = aioredis.Redis.from_url(stack.redis)
        alert = None
        try:
            for _ in range(180):
                for _, fields in await client.xrange(RedisKeys(stack.redis_prefix).stream):
                    if marker in fields[b"alert"].decode():
                        alert = json.loads(fields[b"alert"])
                if alert and len(conditional) >= 2:
                    break
                await asyncio.sleep(0.5)
        finally:
            await client.aclose()
        assert alert is not None, "no alert from the feed's article"
        assert alert["title"] == f"Drone attack on Odesa port {marker}"
        assert conditional[0] is False and conditional[1] is True, "second poll not conditional"
        status = await asyncio.to_thread(run, "status", url, "--json")
        row = json.loads(status.stdout)
        assert row["status"] == "ok" and row["items_total"] == 1
        assert row["consecutive_failures"] == 0 and row["not_modified"] >= 1
        assert (await asyncio.to_thread(run, "remove", url)).returncode == 0
        assert url not in (await asyncio.to_thread(run, "list")).stdout
    finally:
        await runner.cleanup()


HOSTILE = (
    '<img src=x onerror="window.pwned=1">[click](https://evil.example) '
    "\u202egnp.exe\u200b \u2066isolated\u2069 {marker}"
)


async def test_login_then_hostile_titles_shown_as_inert_text_then_logout(
    stack: Settings, tmp_path: Path
) -> None:
    """Issue 27: with a token the page asks for it (a login form, then a session cookie), an
    alert title's HTML and Markdown stay text, its bidi and zero-width controls are dropped from
    display, and logging out leads back to the form."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    await ensure_topics(stack)
    s = stack.model_copy(
        update={
            "redis_prefix": f"{stack.redis_prefix}-login{uuid.uuid4().hex[:6]}",
            "api_token": SecretStr("e2e-token"),
        }
    )
    runner = web.AppRunner(make_app(s))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    marker = uuid.uuid4().hex[:8]
    client = aioredis.Redis.from_url(s.redis)
    try:
        async with chromium(CHROMIUM, tmp_path / "profile") as page:
            await page.call("Page.enable")
            await page.call("Page.navigate", url=base + "/")
            assert await page.wait_for("location.pathname === '/login'"), "not sent to login"
            assert await page.wait_for("!!document.getElementById('token')")
            await page.eval("document.getElementById('token').value = 'wrong'")
            await page.eval("document.getElementById('login-button').click()")
            assert await page.wait_for("!!document.getElementById('error')?.textContent")
            await page.eval("document.getElementById('token').value = 'e2e-token'")
            await page.eval("document.getElementById('login-button').click()")
            assert await page.wait_for("document.body.dataset.ready === '1'"), "no SSE after login"
            assert await page.eval("document.cookie") == ""  # HttpOnly: no script reads it
            assert await page.wait_for("!document.getElementById('logout').hidden")

            title = HOSTILE.format(marker=marker)
            delivery = RedisDelivery(client, RedisKeys(s.redis_prefix), ttl_s=60, maxlen=100)
            await delivery.deliver(make_alert(title=title))
            card = (
                "[...document.querySelectorAll('#alerts li')]"
                f".find(li => li.textContent.includes('{marker}'))"
            )
            assert await page.wait_for(f"!!{card}", timeout=30), "the alert did not appear"
            shown = await page.eval(f"{card}.querySelector('.title').textContent")
            assert shown == (
                '<img src=x onerror="window.pwned=1">[click](https://evil.example) '
                f"gnp.exe isolated {marker}"
            )
            assert await page.eval(f"{card}.querySelectorAll('img, a').length") == 0
            await page.eval(f"{card}.click()")
            assert await page.wait_for("!document.getElementById('detail').hidden")
            assert (
                await page.eval("document.querySelectorAll('#detail img, #detail h2 a').length")
                == 0
            )
            heading = await page.eval("document.querySelector('#detail h2').textContent")
            assert "\u202e" not in heading and "gnp.exe isolated" in heading
            assert await page.eval("window.pwned === undefined")

            await page.eval("document.getElementById('logout').click()")
            assert await page.wait_for("location.pathname === '/login'"), "logout did not land"
            await page.call("Page.navigate", url=base + "/")
            assert await page.wait_for("location.pathname === '/login'"), "session survived"
    finally:
        await client.aclose()
        await runner.cleanup()
