"""Alerts worker: tagged topic -> `propose()` (pure) -> the story engine over Redis (core.py
`StoryEngine`, store.py `RedisStories`: the story decided, committed and its alerts delivered
atomically) -> the alerts topic, and each story-opening article's terms to the
trend-terms topic (counted by the trends worker).

The story state is shared in Redis, so a restart, a rebalance or a second replica finds the open
stories and what they already alerted: no second alert for the same (story, rule, severity).
"""

from __future__ import annotations

from collections.abc import Sequence

import faust

from schemas import TaggedArticle
from services.alerts.core import Proposal, StoryEngine, propose
from services.alerts.rules import load_rules
from services.alerts.store import RedisStories
from services.alerts.trend_terms import story_terms
from services.common import metrics
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.worker import Stage, every, make_app, wait_acked
from services.delivery.sink import AlertSink
from services.text.taxonomy import load_taxonomy


def build(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_file)  # fails at start-up with file and field named
    taxonomy = load_taxonomy(settings.taxonomy_file)  # its traps also judge rule phrases
    sink = AlertSink(settings)
    stories = StoryEngine(
        RedisStories(
            sink.delivery.client,
            RedisKeys(settings.redis_prefix),
            dedupe_ttl_s=settings.alert_dedupe_ttl_s,
            maxlen=settings.alerts_stream_maxlen,
        )
    )
    app = make_app("alerts", settings)
    t = Topics.from_settings(settings)
    alerts_topic = app.topic(t.alerts)
    terms_topic = app.topic(t.trend_terms)

    def compute(value: bytes) -> list[Proposal]:
        return [propose(TaggedArticle.model_validate_json(value), rules, taxonomy)]

    async def deliver(proposals: Sequence[Proposal]) -> None:
        """Stories and alerts in Redis first (atomic), then the named subscriptions of each first
        delivery, then Kafka. A retry after a failure settles the articles again: they are in
        their stories by then, so they raise the same alert ids, which nobody sees twice."""
        settled = await stories.settle_all(proposals)
        futures = []
        for s in settled:
            for alert, entry in zip(s.alerts, s.entries, strict=True):
                if entry is not None:
                    await sink.fanout.publish(alert)
            for alert in s.alerts:
                futures.append(
                    await alerts_topic.send(
                        key=alert.id.encode(), value=alert.model_dump_json().encode()
                    )
                )
        for p, s in zip(proposals, settled, strict=True):
            if s.opens_story:
                rec = story_terms(p.tagged)
                key = getattr(rec, "partition_key", None) or rec.article_id
                futures.append(
                    await terms_topic.send(key=key.encode(), value=rec.model_dump_json().encode())
                )
        if futures:
            await wait_acked(futures, settings.send_timeout_s)
        for s in settled:
            for alert in s.alerts if not s.redelivered else ():
                metrics.output_written("alerts", alert)

    Stage(
        app=app,
        settings=settings,
        name="alerts",
        compute=compute,
        deliver=deliver,
        sink="",  # the alerts go to Kafka from `deliver`, once Redis decided them
        count_outputs=False,
    )

    async def flush_digests() -> None:
        await sink.fanout.flush_digests()

    every(app, "alerts", settings.digest_window_s, flush_digests)
    return app
