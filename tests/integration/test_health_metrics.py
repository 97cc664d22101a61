"""Health, metrics, status and topic administration against the real stack.

A worker runs as its own process on a free metrics port; everything is observed from outside, the way
Kubernetes probes, Prometheus and an operator running `newswire status` would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas import RawArticle
from services.common.health import Readiness, read_heartbeats
from services.common.kafka import ensure_topics
from services.common.kafka_admin import KafkaAdmin, topic_specs
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import Topics
from services.devstack.supervise import stop_all
from services.ingest.http import make_app
from services.ingest.publisher import Publisher
from tests.conftest import free_port, settings_env
from tests.e2e.test_pipeline import _wait_until

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _cli(stack: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**os.environ, **settings_env(stack), "NEWSWIRE_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sample(metrics_text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics_text.splitlines():
        head, _, val = line.rpartition(" ")
        if head == f"{name}{{{want}}}" or (not labels and head == name):
            return float(val)
    return 0.0


async def test_topics_create_applies_the_spec_and_repairs_drift(stack: Settings) -> None:
    async with KafkaAdmin.connect(stack) as admin:
        await admin.apply(topic_specs(stack))
        assert await admin.apply(topic_specs(stack)) == [], "a second run changes nothing"
        t = Topics.from_settings(stack)
        infos = {i.name: i for i in await admin.describe(t.all())}
        assert infos[t.alerts].configs["cleanup.policy"] == "compact,delete"
        assert infos[t.raw].configs["cleanup.policy"] == "delete"
        assert infos[t.raw].partitions == stack.partitions
        await admin.admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t.deadletter, {"retention.ms": "1000"})]
        )
        changes = await admin.apply(topic_specs(stack))
        assert len(changes) == 1 and t.deadletter in changes[0]
        infos = {i.name: i for i in await admin.describe([t.deadletter])}
        assert infos[t.deadletter].configs["retention.ms"] == str(
            int(stack.deadletter_retention_days * 24 * 3600 * 1000)
        )


async def test_reset_offsets_moves_a_stopped_group_and_lag_follows(stack: Settings) -> None:
    await ensure_topics(stack)
    topic = Topics.from_settings(stack).raw
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, b"{}", key=f"reset-{i}".encode(), partition=0)
    finally:
        await producer.stop()
    group = f"nwtest-reset-{uuid.uuid4().hex[:6]}"
    async with KafkaAdmin.connect(stack) as admin:
        await admin.commit(group, topic, await admin.target_offsets(topic, "latest"))
        assert (await admin.lag(group, topic)).total == 0
        begin = await admin.target_offsets(topic, "earliest")
        end = await admin.target_offsets(topic, "latest")
    proc = await asyncio.to_thread(
        _cli, stack, "topics", "reset-offsets", "--group", group, "--topic", "raw",
        "--to", "earliest", "--execute",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "offsets committed" in proc.stdout
    async with KafkaAdmin.connect(stack) as admin:
        lag = await admin.lag(group, topic)
    assert lag.total == sum(end.values()) - sum(begin.values()) >= 3


async def test_readiness_says_which_dependency_is_down() -> None:
    s = Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
    )
    assert await Readiness(s).check() == {"kafka": False, "redis": False}


@pytest.fixture
async def ingest_client(stack: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    await ensure_topics(stack)
    async with TestClient(TestServer(make_app(stack, Publisher(stack)))) as c:
        yield c


async def test_ingest_serves_probes_and_counts_accepted_and_rejected(
    ingest_client: TestClient,  # type: ignore[type-arg]
) -> None:
    assert (await ingest_client.get("/livez")).status == 200
    ready = await ingest_client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"kafka": True, "redis": True}
    before = _sample(
        await (await ingest_client.get("/metrics")).text(),
        "newswire_records_in_total",
        stage="ingest",
    )
    resp = await ingest_client.post(
        "/articles", json=[{"title": "a", "body": "b"}, {"title": "c", "body": "d"}]
    )
    assert resp.status == 202
    assert (
        await ingest_client.post(
            "/articles", data=b"{", headers={"Content-Type": "application/json"}
        )
    ).status == 400
    text = await (await ingest_client.get("/metrics")).text()
    assert _sample(text, "newswire_records_in_total", stage="ingest") == before + 2
    assert _sample(text, "newswire_errors_total", stage="ingest", kind="http_400") >= 1


@pytest.fixture
def enrichment_worker(stack: Settings, tmp_path: Path) -> Iterator[dict[str, Any]]:
    # topics of its own: the session's raw topic holds thousands of articles of earlier tests (the
    # feed and hostile-ingest tiers), which a fresh group would read first, past the test's wait
    stack = stack.model_copy(update={"topic_prefix": f"{stack.topic_prefix}hm"})
    asyncio.run(ensure_topics(stack))
    port = free_port()
    log = tmp_path / "enrichment.log"
    env = {
        **os.environ,
        **settings_env(stack),
        "NEWSWIRE_METRICS_PORT": str(port),
        "NEWSWIRE_STATUS_INTERVAL_S": "1",
        "NEWSWIRE_LOG_FORMAT": "json",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", "enrichment"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if _get(f"http://127.0.0.1:{port}/livez")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "worker never answered /livez:\n" + log.read_text()
            time.sleep(0.5)
        yield {"proc": proc, "url": f"http://127.0.0.1:{port}", "log": log, "settings": stack}
    finally:
        stop_all({"enrichment": proc})


async def test_worker_probes_metrics_status_and_json_logs(
    stack: Settings, enrichment_worker: dict[str, Any]
) -> None:
    url = enrichment_worker["url"]
    stack = enrichment_worker["settings"]  # the worker's own topics (same Redis)
    status, body = await asyncio.to_thread(_get, f"{url}/readyz")
    assert status == 200 and json.loads(body)["checks"] == {"kafka": True, "redis": True}

    marker = uuid.uuid4().hex[:8]
    good = RawArticle(title=f"Drone attack {marker}", body="Drones hit Kharkiv.")  # type: ignore[call-arg]
    poison_key = f"poison-{marker}"
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        topic = Topics.from_settings(stack).raw
        await producer.send_and_wait(topic, b"not json", key=poison_key.encode())
        await producer.send_and_wait(topic, good.model_dump_json().encode(), key=good.id.encode())
    finally:
        await producer.stop()

    async def counted() -> bool:
        text = (await asyncio.to_thread(_get, f"{url}/metrics"))[1]
        return (
            _sample(text, "newswire_dead_letters_total", stage="enrichment") >= 1
            and _sample(text, "newswire_records_out_total", stage="enrichment") >= 1
        )

    assert await _wait_until(counted), "dead letter and output never showed in /metrics"
    text = (await asyncio.to_thread(_get, f"{url}/metrics"))[1]
    assert _sample(text, "newswire_stage_latency_seconds_count", stage="enrichment") >= 1
    assert "newswire_consumer_lag{" in text or await _wait_until(
        lambda: _has_lag(url), timeout=30
    ), "the lag gauge was never set"

    rows: dict[str, Any] = {}

    async def error_in_status() -> bool:
        """The heartbeat is written every second: the first read may predate the dead letter."""
        proc = await asyncio.to_thread(_cli, stack, "status", "--json")
        assert proc.returncode == 0, proc.stderr
        rows.update({r["service"]: r for r in json.loads(proc.stdout)})
        return "ValidationError" in rows["enrichment"]["last_error"]

    assert await _wait_until(error_in_status, timeout=20), rows.get("enrichment")
    assert rows["enrichment"]["state"] == "up" and rows["enrichment"]["replicas"] >= 1
    assert isinstance(rows["enrichment"]["lag"], int)
    assert url in rows["enrichment"]["endpoints"]
    assert rows["tagging"]["state"] == "not running"

    lines = [
        json.loads(line)
        for line in enrichment_worker["log"].read_text().splitlines()
        if line.startswith("{")
    ]
    dead = [r for r in lines if "dead-lettering" in r["message"]]
    assert dead and dead[-1]["article_id"] == poison_key and dead[-1]["service"] == "enrichment"

    enrichment_worker["proc"].send_signal(signal.SIGTERM)
    await asyncio.to_thread(enrichment_worker["proc"].wait, 30)
    client = make_redis(stack, max_connections=2)
    try:
        beats = await read_heartbeats(client, stack.redis_prefix)
    finally:
        await client.aclose()
    assert not [b for b in beats if b.get("endpoint") == url], "a clean stop removes the heartbeat"


async def _has_lag(url: str) -> bool:
    return "newswire_consumer_lag{" in (await asyncio.to_thread(_get, f"{url}/metrics"))[1]
