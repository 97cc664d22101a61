"""Trend alerts on the real stack (Kafka, Redis, the alerts and trends workers as processes):
ordinary news raises none, a surge of escalation stories in one country within one hour of event
time raises one listing its stories, and the same surge replayed raises nothing new."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from schemas import Alert, DeadLetter, TaggedArticle
from services.common.kafka import ensure_topics
from services.common.kafka_admin import KafkaAdmin
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.topology import group_id
from services.devstack.supervise import check_alive, running_services
from tests.conftest import read_topic, settings_env
from tests.unit.trends.replay import ordinary, surge

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def _send(s: Settings, topic: str, records: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all")
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(topic, r)
    finally:
        await producer.stop()


async def _drained(s: Settings, procs: Any, timeout: float = 120.0) -> None:
    """Until the alerts and trends workers have committed everything sent to them."""
    t = Topics.from_settings(s)
    deadline = time.monotonic() + timeout
    async with KafkaAdmin.connect(s) as admin:
        while time.monotonic() < deadline:
            check_alive(procs)
            alerts = await admin.lag(group_id(s, "alerts"), t.tagged)
            trends = await admin.lag(group_id(s, "trends"), t.trend_terms)
            if alerts.committed and trends.committed and alerts.total == trends.total == 0:
                return
            await asyncio.sleep(1.0)
    raise AssertionError("the workers did not catch up")


async def _messages(sub: Any, seconds: float) -> list[Alert]:
    got = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if (msg := await sub.get_message(timeout=0.5)) is not None:
            got.append(Alert.model_validate_json(msg["data"]))
    return got


def _bytes(articles: list[TaggedArticle]) -> list[bytes]:
    return [a.model_dump_json().encode() for a in articles]


async def test_ordinary_news_no_trend_a_surge_one_and_its_replay_nothing_new(
    stack: Settings, tmp_path: Path
) -> None:
    s = stack.model_copy(
        update={
            "topic_prefix": f"{stack.topic_prefix}tr",
            "redis_prefix": f"{stack.redis_prefix}tr",
        }
    )
    await ensure_topics(s)
    t = Topics.from_settings(s)
    marker = uuid.uuid4().hex[:6]
    plain, burst = ordinary(marker), surge(marker)
    client = aioredis.Redis.from_url(s.redis)
    sub = client.pubsub(ignore_subscribe_messages=True)
    await sub.subscribe(RedisKeys(s.redis_prefix).rule("trend"))
    await _send(s, t.trend_terms, [b'{"article_id": "x", "terms": "not a list"}'])
    await _send(s, t.tagged, _bytes(plain))  # the day before: ordinary business and sport
    with running_services(("alerts", "trends"), env=settings_env(s), log_dir=tmp_path) as procs:
        await _drained(s, procs)
        quiet = await _messages(sub, 3)
        await _send(s, t.tagged, _bytes(burst))  # eight stories in eight cities in one hour
        await _drained(s, procs)
        raised = await _messages(sub, 5)
        await _send(s, t.tagged, _bytes(burst))  # the same surge again
        await _drained(s, procs)
        again = await _messages(sub, 5)
    await sub.aclose()
    await client.aclose()
    log = (tmp_path / "trends.log").read_text()[-3000:]
    assert quiet == [], log
    assert len(raised) == 1, (raised, log)
    alert = raised[0]
    assert alert.rule_id == "trend" and alert.story_id.startswith("trend:place:UA:")
    listed = [m.term for m in alert.matches]
    assert len(listed) == alert.story_articles == 6
    assert set(listed) <= {a.article.id for a in burst}
    assert alert.severity == "high"
    assert again == []
    dead = [DeadLetter.model_validate_json(r.value) for r in await read_topic(s, t.deadletter)]
    assert [(d.stage, d.topic) for d in dead] == [("trends", t.trend_terms)]
    assert "terms" in dead[0].error  # the field to fix is named
