"""Redis and dead-letter plumbing on real servers: resubscribe after a Redis restart, Lua delivery
waits for Redis, `newswire dlq list|show|replay`, replay reports bad files and goes on."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from click.testing import CliRunner

from schemas import Alert, StageTimes
from schemas.deadletter import H_REPLAYED
from services.cli import main
from services.common.kafka import (
    dead_letter,
    dead_letter_headers,
    ensure_topics,
)
from services.common.redisconn import TRANSIENT, make_redis
from services.common.settings import Settings, get_settings
from services.common.topics import RedisKeys, Topics
from services.delivery.live import SubscriptionStats, alerts
from services.delivery.sink import RedisDelivery
from services.devstack.stack import LocalStack
from services.ingest.replay import replay
from tests.conftest import free_port, settings_env

pytestmark = pytest.mark.integration


def _alert(n: int) -> Alert:
    return Alert(
        id=f"resilience-{n}-{uuid.uuid4().hex[:6]}",
        rule_id="missile-strike",
        rule_description="d",
        severity="high",
        score=5.0,
        matches=[],
        article_id=f"a{n}",
        story_id=f"a{n}",
        title="t",
        times=StageTimes(),
    )


async def test_subscriber_and_delivery_survive_a_redis_restart(tmp_path: Path) -> None:
    s = Settings(_env_file=None, state_dir=tmp_path, redis_port=free_port())  # type: ignore[call-arg]
    local = LocalStack(s)
    local.start_redis()
    try:
        await asyncio.sleep(0.5)
        keys = RedisKeys("resilience")
        delivery = RedisDelivery(make_redis(s), keys, ttl_s=60, maxlen=100)
        stats = SubscriptionStats()
        ready = asyncio.Event()
        got: list[str] = []

        async def listen() -> None:
            async for a in alerts(s.redis, keys.all_alerts, ready, stats=stats, keys=keys):
                got.append(a.id)

        task = asyncio.create_task(listen())
        await asyncio.wait_for(ready.wait(), 10)
        first = _alert(1)
        assert await delivery.deliver(first)
        local._stop(local.redis)
        with pytest.raises(TRANSIENT):  # Redis is away: delivery fails (the Stage retries it)
            await delivery.deliver(_alert(2))
        ready.clear()
        local.start_redis()
        await asyncio.wait_for(ready.wait(), 30)  # resubscribed
        second = _alert(3)
        assert await delivery.deliver(second)
        assert await delivery.deliver(first) is None  # AOF kept the dedupe key
        for _ in range(50):
            if second.id in got:
                break
            await asyncio.sleep(0.1)
        task.cancel()
        assert got == [first.id, second.id]
        assert stats.reconnects >= 1
    finally:
        local.down()


async def test_dlq_list_show_and_replay(stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    s = stack.model_copy(update={"topic_prefix": f"dlq{uuid.uuid4().hex[:6]}"})
    await ensure_topics(s)
    t = Topics.from_settings(s)
    dl = dead_letter(
        stage="tagging",
        topic=t.enriched,
        partition=0,
        offset=7,
        key=b"k-42",
        value=b"\x00broken bytes",
        error=ValueError("not an EnrichedArticle"),
        timestamp_ms=1_700_000_000_000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all")
    await producer.start()
    await producer.send_and_wait(
        t.deadletter, dl.model_dump_json().encode(), key=b"k-42", headers=dead_letter_headers(dl)
    )
    await producer.stop()

    for k, v in settings_env(s).items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = await asyncio.to_thread(runner.invoke, main, ["dlq", "list"])
        assert listed.exit_code == 0, listed.output
        assert "tagging" in listed.output and "ValueError" in listed.output
        ref = listed.output.split()[0]
        shown = await asyncio.to_thread(runner.invoke, main, ["dlq", "show", ref])
        assert "broken bytes" in shown.output
        assert json.loads(shown.output.split("original value:")[0])["offset"] == 7
        done = await asyncio.to_thread(runner.invoke, main, ["dlq", "replay", "--stage", "tagging"])
        assert "1 record(s) replayed" in done.output, done.output
    finally:
        get_settings.cache_clear()

    consumer = AIOKafkaConsumer(
        t.enriched, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()
    (record,) = [r for rs in batch.values() for r in rs]
    assert (record.key, record.value) == (b"k-42", b"\x00broken bytes")
    assert dict(record.headers)[H_REPLAYED] == ref.encode()


async def test_replay_reports_bad_files_and_goes_on(stack: Settings, tmp_path: Path) -> None:
    await ensure_topics(stack)
    (tmp_path / "good.jsonl").write_text(
        json.dumps({"title": "Replay ok", "body": "Missiles hit."})
        + "\n{broken\n"
        + json.dumps({"title": "Old", "body": "b", "published_at": "1200-01-01T00:00:00Z"})
        + "\n"
    )
    (tmp_path / "ctrl.json").write_text(json.dumps({"title": "bell \x07", "body": "b"}))
    (tmp_path / "latin1.txt").write_bytes("Café attack\n\nbody".encode("latin-1"))
    os.chmod(tmp_path / "good.jsonl", 0o644)
    report = await replay(stack, [tmp_path, tmp_path / "nope.md"])
    assert len(report.published) == 1
    reasons = {(i.path.name, i.line): i.error or "" for i in report.skipped}
    assert "invalid JSON" in reasons[("good.jsonl", 2)] or reasons[("good.jsonl", 2)]
    assert "published_at" in reasons[("good.jsonl", 3)]
    assert "control character" in reasons[("ctrl.json", 1)]
    assert "cannot read" in reasons[("latin1.txt", None)]
    assert "no such file" in reasons[("nope.md", None)]
