"""Trend alerts from the trends worker's counts in Redis (fed by the alerts stage), on the real stack."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from schemas import Alert, DeadLetter, RawArticle
from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.devstack.supervise import check_alive, running_services
from services.enrichment.core import enrich
from services.tagging.core import tag
from tests.conftest import read_topic, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WINDOW = 60
STORIES = [
    ("Canada", "Iran", "missile transfers"),
    ("Japan", "North Korea", "weapons tests"),
    ("Australia", "Myanmar", "a military crackdown"),
    ("Norway", "Belarus", "election fraud"),
    ("Brazil", "Venezuela", "border incursions"),
    ("India", "Pakistan", "cross-border raids"),
    ("Kenya", "Sudan", "arms smuggling"),
    ("Mexico", "Nicaragua", "political arrests"),
    ("Turkey", "Syria", "chemical weapons"),
    ("Poland", "Russia", "cyber intrusions"),
    ("Chile", "Bolivia", "gas export disputes"),
]


async def test_a_term_spiking_over_its_baseline_raises_one_trend_alert(
    stack: Settings, tmp_path: Path
) -> None:
    s = stack.model_copy(
        update={
            "topic_prefix": f"{stack.topic_prefix}tr",
            "redis_prefix": f"{stack.redis_prefix}tr",
        }
    )
    await ensure_topics(s)
    env = {
        **settings_env(s),
        "NEWSWIRE_TREND_WINDOW_S": str(WINDOW),
        "NEWSWIRE_TREND_BASELINE_WINDOWS": "3",
        "NEWSWIRE_TREND_FACTOR": "3",
        "NEWSWIRE_TREND_MIN_COUNT": "5",
    }
    keys = RedisKeys(s.redis_prefix)
    client = aioredis.Redis.from_url(s.redis)
    sub = client.pubsub(ignore_subscribe_messages=True)
    await sub.subscribe(keys.rule("trend"))
    marker = uuid.uuid4().hex[:6]

    def tagged(n: int) -> bytes:
        """Eleven different stories that all mention sanctions (trends count stories)."""
        who, whom, what = STORIES[n - 1]
        raw = RawArticle(  # type: ignore[call-arg]
            title=f"{who} sanctions {whom} ({marker})",
            body=f"{who} announced sanctions on {whom} over {what}.",
        )
        return tag(enrich(raw)).model_dump_json().encode()

    now_ms = int(time.time() * 1000)
    window_start = now_ms - now_ms % (WINDOW * 1000)
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all")
    await producer.start()
    poison = b'{"article_id": "x", "terms": "not a list"}'
    try:
        await producer.send_and_wait(Topics.from_settings(s).trend_terms, poison, key=b"x")
        n = 0
        for k in (3, 2, 1):  # one article per baseline window
            n += 1
            await producer.send_and_wait(
                Topics.from_settings(s).tagged,
                tagged(n),
                timestamp_ms=window_start - k * WINDOW * 1000 + 1000,
            )
        for _ in range(8):  # a burst in the current window: 8 >= max(5, 3 * (1 + 1))
            n += 1
            await producer.send_and_wait(
                Topics.from_settings(s).tagged, tagged(n), timestamp_ms=window_start + 1000
            )
    finally:
        await producer.stop()

    t = Topics.from_settings(s)
    got: list[Alert] = []
    with running_services(("alerts", "trends"), env=env, log_dir=tmp_path) as procs:
        deadline = time.monotonic() + 120
        while not got and time.monotonic() < deadline:  # the first trend alert
            check_alive(procs)
            msg: Any = await sub.get_message(timeout=0.5)
            if msg:
                got.append(Alert.model_validate_json(msg["data"]))
        settle = time.monotonic() + 5  # then any others (and any repeat, which must not come)
        while time.monotonic() < settle:
            if (msg := await sub.get_message(timeout=0.5)) is not None:
                got.append(Alert.model_validate_json(msg["data"]))
    await sub.aclose()
    await client.aclose()
    dead = [DeadLetter.model_validate_json(r.value) for r in await read_topic(s, t.deadletter)]
    assert [(d.stage, d.topic) for d in dead] == [("trends", t.trend_terms)]
    assert "terms" in dead[0].error  # the field to fix is named
    terms = [a.story_id.split(":")[1] + ":" + a.story_id.split(":")[2] for a in got]
    assert "topic:sanctions-economy" in terms, (tmp_path / "alerts.log").read_text()[-3000:]
    assert len(terms) == len(set(terms)), "one trend alert per term and window"
    assert all(a.rule_id == "trend" for a in got)
