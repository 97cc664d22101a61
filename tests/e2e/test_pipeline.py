"""The four services as separate processes on the real stack, observed from outside like a user would."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from schemas import Alert, DeadLetter, RawArticle
from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.devstack.supervise import check_alive, running_services
from services.enrichment.core import enrich
from services.ingest.parse import from_text
from services.ingest.replay import replay
from services.tagging.core import tag
from tests.conftest import read_topic, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def pipeline(stack: Settings) -> Iterator[dict[str, Any]]:
    asyncio.run(ensure_topics(stack))
    with running_services(env=settings_env(stack), log_dir=stack.state_dir / "logs") as procs:
        deadline = time.monotonic() + 60
        while True:  # ingest answers /health once its producer is connected
            check_alive(procs)
            try:
                import urllib.request

                with urllib.request.urlopen(
                    f"http://127.0.0.1:{stack.http_port}/health", timeout=1
                ) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "ingest did not become healthy"
            time.sleep(0.3)
        yield procs
        check_alive(procs)  # no service may have crashed during the tests


class Subscriber:
    """A real Redis pub/sub subscriber on the all-alerts channel."""

    def __init__(self, stack: Settings) -> None:
        self.keys = RedisKeys(stack.redis_prefix)
        self.client = aioredis.Redis.from_url(stack.redis)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.received: list[Alert] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Subscriber:
        await self.pubsub.psubscribe(self.keys.all_alerts)
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            msg = await self.pubsub.get_message(timeout=0.5)
            if msg and msg["type"] == "pmessage":
                self.received.append(Alert.model_validate_json(msg["data"]))

    async def wait_for(self, pred: Any, timeout: float = 60.0) -> list[Alert]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [a for a in self.received if pred(a)]
            if got:
                return got
            await asyncio.sleep(0.2)
        return []

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
        await self.pubsub.aclose()
        await self.client.aclose()


async def _alerts_on_topic(stack: Settings, article_id: str) -> list[Alert]:
    records = await read_topic(stack, Topics.from_settings(stack).alerts)
    alerts = [Alert.model_validate_json(r.value) for r in records if r.value]
    return [a for a in alerts if a.article_id == article_id]


async def _wait_until(pred: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await pred():
            return True
        await asyncio.sleep(0.5)
    return False


@pytest.fixture
async def subscriber(stack: Settings) -> AsyncIterator[Subscriber]:
    async with Subscriber(stack) as sub:
        yield sub


async def test_seed_raises_missile_and_nuclear_alerts_once(
    pipeline: dict[str, Any], stack: Settings, subscriber: Subscriber, seed_path: Path
) -> None:
    seed_id = from_text(seed_path.read_text(encoding="utf-8")).id
    report = await replay(stack, [seed_path.parent])  # seeds/, as `make demo` replays it
    assert seed_id in report.published
    assert len(report.published) == len(list(seed_path.parent.glob("*.txt")))

    # the Russian seed alerts natively, with its evidence in Russian and its place in Ukraine
    ru = await subscriber.wait_for(
        lambda a: a.rule_id == "missile-strike" and a.title.startswith("Ракетный удар")
    )
    assert ru and "UA" in ru[0].countries
    assert any("Харьков" in m.sentence for m in ru[0].matches)

    await subscriber.wait_for(lambda a: a.rule_id == "nuclear-threat" and a.article_id == seed_id)
    await subscriber.wait_for(lambda a: a.rule_id == "missile-strike" and a.article_id == seed_id)
    await asyncio.sleep(2)  # the rest of this article's alerts
    mine = [a for a in subscriber.received if a.article_id == seed_id]
    rules = {a.rule_id for a in mine}
    assert {"missile-strike", "nuclear-threat"} <= rules
    assert len(mine) == len(rules), "each (article, rule) alert exactly once"
    nuclear = next(a for a in mine if a.rule_id == "nuclear-threat")
    assert any("doctrine" in m.sentence for m in nuclear.matches)
    assert nuclear.times.ingested and nuclear.times.enriched and nuclear.times.tagged

    client = aioredis.Redis.from_url(stack.redis)
    entries = await client.xrange(RedisKeys(stack.redis_prefix).stream)
    await client.aclose()
    in_stream = {Alert.model_validate_json(f[b"alert"]).id for _, f in entries}
    assert {a.id for a in mine} <= in_stream

    # Replaying the same article again: processed again (the alerts topic shows it) but no second alert.
    before = len(await _alerts_on_topic(stack, seed_id))
    await replay(stack, [seed_path])
    assert await _wait_until(lambda: _count_ge(stack, seed_id, before + len(rules)), timeout=60), (
        "second replay was not processed by the alerts stage"
    )
    await asyncio.sleep(1)
    assert len([a for a in subscriber.received if a.article_id == seed_id]) == len(rules)
    client = aioredis.Redis.from_url(stack.redis)
    again = await client.xrange(RedisKeys(stack.redis_prefix).stream)
    await client.aclose()
    assert len([e for e in again if e[1][b"id"] in {a.id.encode() for a in mine}]) == len(rules)


async def _count_ge(stack: Settings, article_id: str, n: int) -> bool:
    return len(await _alerts_on_topic(stack, article_id)) >= n


async def test_http_ingest_to_subscriber(
    pipeline: dict[str, Any], stack: Settings, subscriber: Subscriber
) -> None:
    marker = uuid.uuid4().hex[:8]
    article = {
        "title": f"Missile strike hits fuel depot {marker}",
        # (a place no other test of the session strikes: stories group reports by place and time)
        "body": "A ballistic missile strike hit a fuel depot near Lviv overnight, officials said.",
    }
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"http://127.0.0.1:{stack.http_port}/articles", json=article)
        assert resp.status == 202
        (aid,) = (await resp.json())["ids"]
    got = await subscriber.wait_for(lambda a: a.article_id == aid)
    assert got and got[0].rule_id == "missile-strike"
    assert got[0].title == article["title"]


async def test_malformed_record_on_each_topic_is_dead_lettered_and_next_is_processed(
    pipeline: dict[str, Any], stack: Settings, subscriber: Subscriber
) -> None:
    t = Topics.from_settings(stack)
    marker = uuid.uuid4().hex[:8]

    # three places no other test of the session strikes: three stories, three alerts
    cities = {1: "Chernihiv", 2: "Poltava", 3: "Zhytomyr"}

    def article(n: int) -> RawArticle:
        return RawArticle(  # type: ignore[call-arg]
            title=f"Drone attack on {cities[n]} {marker}",
            body=f"Russian drone attacks hit {cities[n]} {marker}; two people were killed.",
        )

    good = {
        t.raw: article(1),
        t.enriched: enrich(article(2)),
        t.tagged: tag(enrich(article(3))),
    }
    poison = f"not json {marker}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        for topic, model in good.items():  # same partition: the good one comes after the poison
            await producer.send_and_wait(topic, poison, key=marker.encode(), partition=0)
            await producer.send_and_wait(topic, model.model_dump_json().encode(), partition=0)
    finally:
        await producer.stop()

    ids = {m.id for m in good.values()}
    for aid in ids:
        assert await subscriber.wait_for(lambda a, aid=aid: a.article_id == aid), aid

    # each stage acked its dead letter before it processed the good record behind it
    # (other tests of the session share the stack and may have written other records there)
    records = await read_topic(stack, t.deadletter)
    dead = [DeadLetter.model_validate_json(r.value) for r in records if b'"stage":"' in r.value]
    mine = [
        d for d in dead if d.stage in ("enrichment", "tagging", "alerts") and marker in _decoded(d)
    ]
    assert {(d.stage, d.topic) for d in mine} == {
        ("enrichment", t.raw),
        ("tagging", t.enriched),
        ("alerts", t.tagged),
    }
    assert all(d.error_class == "ValidationError" and d.offset is not None for d in mine)


def _decoded(d: DeadLetter) -> str:
    import base64

    return base64.b64decode(d.value).decode("utf-8", "replace")


WIRE = (
    "Russian forces shelled Kherson on {day}, damaging homes and a school near the river, the "
    "regional administration said. Nobody was hurt, but power was cut to several streets while "
    "repair crews waited for the shelling to stop."
)
LATER = (
    "Russian shelling of Kherson on {day} killed 12 residents, including children, the regional "
    "administration said, raising the toll from earlier reports."
)


async def test_one_wire_story_from_twenty_outlets_alerts_once_then_once_more_when_worse(
    pipeline: dict[str, Any], stack: Settings, subscriber: Subscriber
) -> None:
    from datetime import UTC, datetime

    marker = uuid.uuid4().hex[:6]
    day = datetime.now(UTC).strftime("%A")
    now = datetime.now(UTC).isoformat()
    outlets = [
        {
            "title": f"Outlet {n}: Kherson shelled",
            "body": WIRE.format(day=day)
            if n % 2
            else WIRE.format(day=day).replace("on ", "early on ", 1),
            "url": f"https://outlet{n}.example/{marker}/kherson",
            "published_at": now,
        }
        for n in range(20)
    ]
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{stack.http_port}/articles"
        resp = await http.post(url, json=outlets)
        assert resp.status == 202, await resp.text()
        ids = set((await resp.json())["ids"])
        assert len(ids) == 20
        first = await subscriber.wait_for(lambda a: a.article_id in ids and a.rule_id != "trend")
        assert first, "the wire story raised no alert"
        await asyncio.sleep(5)  # every copy has had time to go through
        copies = [a for a in subscriber.received if a.article_id in ids and a.rule_id != "trend"]
        assert len(copies) == 1, [(a.rule_id, a.article_id) for a in copies]
        story = copies[0].story_id

        worse = {
            "title": "Kherson toll rises",
            "body": LATER.format(day=day),
            "url": f"https://outlet99.example/{marker}/kherson-toll",
            "published_at": datetime.now(UTC).isoformat(),
        }
        resp = await http.post(url, json=worse)
        assert resp.status == 202
        (worse_id,) = (await resp.json())["ids"]
    later = await subscriber.wait_for(lambda a: a.article_id == worse_id)
    await asyncio.sleep(2)
    later = [a for a in subscriber.received if a.article_id == worse_id]
    assert len(later) == 1
    assert later[0].story_id == story
    assert later[0].previous_severity == copies[0].severity != later[0].severity
    assert later[0].story_articles == 21
