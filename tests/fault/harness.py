"""Fault-test harness: a private stack, the workers as processes, a paced replay, and the figures.

Figures per run: sent (articles), delivered (distinct articles with an alert in the Redis stream),
lost, duplicated (extra stream entries + extra pub/sub messages for one article), pub/sub gaps
(articles whose alert the live subscriber never saw), subscriber reconnects, dead letters, and the
extra copies on the alerts Kafka topic (at-least-once; deduplicated by id before Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from schemas import Alert, RawArticle, StageTimes
from services.common.kafka import ensure_topics
from services.common.kafka_admin import KafkaAdmin
from services.common.settings import PROJECT_ROOT, Settings
from services.common.topics import RedisKeys, Topics
from services.common.topology import group_id, inputs
from services.delivery.live import SubscriptionStats, alerts
from services.devstack.stack import LocalStack, wait_ready
from services.devstack.supervise import service_command
from services.ingest.publisher import Publisher
from services.ingest.replay import ReplayReport, publish_with_retry
from services.ops.dlq import Entry, read_all
from tests.conftest import read_topic, settings_env
from tests.fault.audit import AuditResult
from tests.fault.audit import check as check_audit

HERE = Path(__file__).parent
RULES = HERE / "rules.yaml"
WORKERS = ("enrichment", "tagging", "alerts")
RULE = (
    "fault-strike"  # the one rule of rules.yaml; other alerts (e.g. trend spikes) are not counted
)
FIGURES = (
    Path(os.environ.get("NEWSWIRE_FAULT_FIGURES", ""))
    if os.environ.get("NEWSWIRE_FAULT_FIGURES")
    else None
)
RESULTS: list[Figures] = []
KEPT_LOGS = PROJECT_ROOT / ".newswire" / "fault-logs"


def n_articles() -> int:
    """300 by default (CI); NEWSWIRE_FAULT_ARTICLES=2000 for the documented full run."""
    return int(os.environ.get("NEWSWIRE_FAULT_ARTICLES", "300"))


def articles(run: str, n: int) -> list[RawArticle]:
    """Deterministic, distinct, each raising exactly one `fault-strike` alert.

    Each is its own story: alerts go out once per story (issue 4), and near-identical strikes on
    one city within six hours are one story, so the publication times lie 13 hours apart. Numbers
    have five digits: "statement 1850" would read as a year and the strike as history (suppressed).
    """
    places = ("Kharkiv", "Odesa", "Dnipro", "Zaporizhzhia", "Sumy", "Kherson")
    first = datetime(2020, 1, 1, tzinfo=UTC)
    return [
        RawArticle(  # type: ignore[call-arg]
            title=f"Report {i:05d} of run {run} from {places[i % len(places)]}",
            body=(
                f"A missile strike hit a fuel depot near {places[i % len(places)]} overnight, "
                f"officials said in statement {i:05d} of run {run}. Repair crews were at work."
            ),
            times=StageTimes(published=first + timedelta(hours=13 * i)),
        )
        for i in range(n)
    ]


@dataclass
class Figures:
    scenario: str
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    pubsub_received: int = 0
    pubsub_gaps: int = 0
    subscriber_missing: int = 0
    reconnects: int = 0
    dead_letters: int = 0
    topic_extra_copies: int = 0
    publish_retries: int = 0
    commits_checked: int = 0
    invariant_violations: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"{self.scenario}: sent={self.sent} delivered={self.delivered} lost={self.lost} "
            f"duplicated={self.duplicated} pubsub={self.pubsub_received} gaps={self.pubsub_gaps} "
            f"subscriber_missing={self.subscriber_missing} "
            f"reconnects={self.reconnects} dlq={self.dead_letters} "
            f"topic_extra={self.topic_extra_copies} publish_retries={self.publish_retries} "
            f"commits_checked={self.commits_checked} violations={self.invariant_violations} "
            f"seconds={self.seconds:.0f} {json.dumps(self.notes) if self.notes else ''}"
        )


class Workers:
    """The three workers as separate processes (replicas allowed), started and killed like ops would."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.procs: dict[str, list[subprocess.Popen[bytes]]] = {w: [] for w in WORKERS}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        out = (self.log_dir / f"{name}.log").open("ab")
        p = subprocess.Popen(
            service_command(name),
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.procs[name].append(p)
        return p

    def start_all(self) -> None:
        for w in WORKERS:
            self.start(w)

    async def signal(self, name: str, sig: int, index: int = 0, wait_s: float = 60.0) -> int | None:
        """Send sig to one replica and wait for it to exit; returns its exit code (None: still up)."""
        p = self.procs[name].pop(index)
        p.send_signal(sig)
        deadline = time.monotonic() + wait_s
        while p.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if p.poll() is None:
            p.kill()
            p.wait()
            return None
        return p.returncode

    def dead(self) -> dict[str, int]:
        return {
            f"{n}[{i}]": p.returncode
            for n, ps in self.procs.items()
            for i, p in enumerate(ps)
            if p.poll() is not None
        }

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for ps in self.procs.values():
            for p in ps:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
        for n, ps in self.procs.items():
            for i, p in enumerate(ps):
                try:
                    codes[f"{n}[{i}]"] = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    codes[f"{n}[{i}]"] = None
            ps.clear()
        return codes


def pid_of(pidfile: Path) -> int:
    return int(pidfile.read_text().strip())


class Run:
    """One scenario: fresh topic and Redis prefixes on the shared fault stack."""

    def __init__(self, stack: Settings, local: LocalStack, scenario: str) -> None:
        tag = uuid.uuid4().hex[:6]
        self.local = local
        self.s = stack.model_copy(
            update={"topic_prefix": f"fault{tag}", "redis_prefix": f"fault{tag}"}
        )
        env = settings_env(self.s)
        env["NEWSWIRE_RULES_FILE"] = str(RULES)
        env["NEWSWIRE_LOG_LEVEL"] = os.environ.get("NEWSWIRE_FAULT_LOG_LEVEL", "WARNING")
        env["NEWSWIRE_METRICS_PORT"] = "0"  # replicas on one host: any free port
        # the digest timer every second, so every outage meets it (a timer's error once ended the
        # alerts worker: chaos seed 3028)
        env["NEWSWIRE_DIGEST_WINDOW_S"] = "1"
        slug = "".join(c if c.isalnum() else "-" for c in scenario.lower()).strip("-")
        self.audit_dir = self.s.state_dir / "audit" / f"{slug}-{tag}"
        env["NEWSWIRE_OFFSET_AUDIT_DIR"] = str(self.audit_dir)  # the commit invariant (audit.py)
        self.workers = Workers(env, self.s.state_dir / "logs" / f"{slug}-{tag}")
        self.fig = Figures(scenario)
        self.articles = articles(tag, n_articles())
        self.published = 0
        self.sub_stats = SubscriptionStats()
        self.received: Counter[str] = Counter()
        self.live = self.backfilled = self._backfilled_seen = 0

    # ---- input ---------------------------------------------------------------------------
    async def publish(self, window_s: float, batch: int = 10) -> ReplayReport:
        """Replays the articles in small batches spread over window_s, riding out outages."""
        report = ReplayReport()
        pub = Publisher(self.s)
        await pub.start()
        pause = window_s / max(1, len(self.articles) // batch)
        try:
            for i in range(0, len(self.articles), batch):
                await publish_with_retry(pub, self.articles[i : i + batch], report, 180.0)
                self.published = report.published_count
                await asyncio.sleep(pause)
        finally:
            await pub.stop()
        return report

    async def until_published(self, fraction: float) -> None:
        """Mid-stream: that share is published and the whole pipeline is warm (an alert arrived)."""
        while self.published < fraction * len(self.articles) or not self.received:
            await asyncio.sleep(0.1)

    # ---- output --------------------------------------------------------------------------
    async def subscribe(self, ready: asyncio.Event) -> None:
        async for alert in alerts(
            self.s.redis,
            RedisKeys(self.s.redis_prefix).all_alerts,
            ready,
            stats=self.sub_stats,
            keys=RedisKeys(self.s.redis_prefix),
        ):
            backfilled = self.sub_stats.backfilled != self._backfilled_seen
            self._backfilled_seen = self.sub_stats.backfilled
            if isinstance(alert, Alert) and alert.rule_id == RULE:
                self.received[alert.article_id] += 1
                self.live += not backfilled
                self.backfilled += backfilled

    async def stream_counts(self) -> Counter[str]:
        client = aioredis.Redis.from_url(self.s.redis, socket_connect_timeout=2)
        try:
            entries = await client.xrange(RedisKeys(self.s.redis_prefix).stream)
        finally:
            await client.aclose()
        alerts = [Alert.model_validate_json(f[b"alert"]) for _, f in entries]
        return Counter(a.article_id for a in alerts if a.rule_id == RULE)

    async def wait_delivered(self, stall_s: float = 120.0) -> Counter[str]:
        """Until every article's alert is in the stream, or nothing new arrived for stall_s."""
        want = {a.id for a in self.articles}
        last, since = -1, time.monotonic()
        counts: Counter[str] = Counter()
        while time.monotonic() - since < stall_s:
            with contextlib.suppress(Exception):
                counts = await self.stream_counts()
            got = len(want & set(counts))
            if got == len(want):
                return counts
            if got != last:
                last, since = got, time.monotonic()
            await asyncio.sleep(1.0)
        return counts

    async def alerts_topic_copies(self) -> int:
        records = await read_topic(self.s, Topics.from_settings(self.s).alerts)
        return sum(Alert.model_validate_json(r.value or b"").rule_id == RULE for r in records)

    async def stage_lag(self) -> dict[str, dict[int, str]]:
        """Committed/end offsets per stage and partition: shows which stage stopped, if one did."""
        topics = Topics.from_settings(self.s)
        out: dict[str, dict[int, str]] = {}
        async with KafkaAdmin.connect(self.s) as admin:
            for stage in WORKERS:
                for attr in inputs(stage):
                    lag = await admin.lag(group_id(self.s, stage), getattr(topics, attr))
                    out[f"{stage}:{attr}"] = {
                        p: f"{lag.committed.get(p, '-')}/{e}" for p, e in sorted(lag.end.items())
                    }
        return out

    async def dead_letters(self) -> list[Entry]:
        return await read_all(self.s)

    # ---- the whole run -------------------------------------------------------------------
    async def execute(
        self, fault: Callable[[Run], Awaitable[None]], window_s: float | None = None
    ) -> Figures:
        start = time.monotonic()
        await ensure_topics(self.s)
        self.workers.start_all()
        ready = asyncio.Event()
        sub = asyncio.create_task(self.subscribe(ready))
        await asyncio.wait_for(ready.wait(), 30)
        window = window_s if window_s is not None else max(10.0, len(self.articles) / 50)
        pub = asyncio.create_task(self.publish(window))
        try:
            await fault(self)
            report = await pub
            counts = await self.wait_delivered()
            if len(set(counts) & {a.id for a in self.articles}) < len(self.articles):
                with contextlib.suppress(Exception):  # before the workers stop and commit
                    self.fig.notes["committed/end"] = await self.stage_lag()
            await asyncio.sleep(2)  # late pub/sub messages
        finally:
            pub.cancel()
            sub.cancel()
            with contextlib.suppress(BaseException):
                await sub
            codes = self.workers.stop_all()
            # The stack's state folder is removed at the end; keep the workers' logs to read later.
            shutil.copytree(
                self.workers.log_dir, KEPT_LOGS / self.workers.log_dir.name, dirs_exist_ok=True
            )
        want = {a.id for a in self.articles}
        mine = {k: v for k, v in counts.items() if k in want}
        f = self.fig
        f.sent = len(self.articles)
        f.delivered = len(mine)
        f.lost = f.sent - f.delivered
        pub_dupes = sum(v - 1 for k, v in self.received.items() if k in want and v > 1)
        f.duplicated = sum(v - 1 for v in mine.values()) + pub_dupes
        f.pubsub_received = self.live
        f.pubsub_gaps = self.backfilled  # missed live, recovered from the stream
        f.subscriber_missing = len(want - set(self.received))
        f.reconnects = self.sub_stats.reconnects
        f.dead_letters = len(await self.dead_letters())
        f.topic_extra_copies = await self.alerts_topic_copies() - f.delivered
        f.publish_retries = report.retries
        audited = check_audit(self.audit_dir) if self.audit_dir.exists() else AuditResult()
        f.commits_checked = audited.commits
        f.invariant_violations = len(audited.violations)
        if audited.violations:
            f.notes["invariant"] = audited.violations[:10]
        f.seconds = time.monotonic() - start
        f.notes.setdefault("exit_codes_at_end", codes)
        RESULTS.append(f)
        if FIGURES is not None:
            with FIGURES.open("a") as out:
                out.write(json.dumps({**asdict(f), "articles": f.sent}) + "\n")
        print("\n" + f.line())
        return f

    # ---- stack faults --------------------------------------------------------------------
    def signal_component(self, pidfile: Path, sig: int) -> None:
        os.killpg(pid_of(pidfile), sig)

    async def wait_stack(self) -> None:
        await wait_ready(self.s, 120)
