"""Topic and Redis key names: one versioned event type per topic, one prefix for all channels."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import Settings


@dataclass(frozen=True)
class Topics:
    raw: str
    enriched: str
    tagged: str
    alerts: str
    deadletter: str
    trend_terms: str

    @classmethod
    def from_settings(cls, s: Settings) -> Topics:
        p = s.topic_prefix
        return cls(
            raw=f"{p}.articles.raw.v1",
            enriched=f"{p}.articles.enriched.v1",
            tagged=f"{p}.articles.tagged.v1",
            alerts=f"{p}.alerts.v1",
            deadletter=f"{p}.deadletter.v1",
            trend_terms=f"{p}.trends.terms.v2",
        )

    def all(self) -> list[str]:
        return [
            self.raw,
            self.enriched,
            self.tagged,
            self.alerts,
            self.deadletter,
            self.trend_terms,
        ]


@dataclass(frozen=True)
class RedisKeys:
    """`<prefix>:alerts` for all alerts, `<prefix>:alerts:severity:<s>` etc., so PSUBSCRIBE works."""

    prefix: str

    @property
    def all_alerts(self) -> str:
        return f"{self.prefix}:alerts"

    def severity(self, severity: str) -> str:
        return f"{self.prefix}:alerts:severity:{severity}"

    def rule(self, rule_id: str) -> str:
        return f"{self.prefix}:alerts:rule:{rule_id}"

    def country(self, code: str) -> str:
        return f"{self.prefix}:alerts:country:{code}"

    def named(self, channel: str) -> str:
        """An extra channel a rule names in its `channels` list."""
        return f"{self.prefix}:alerts:channel:{channel}"

    @property
    def pattern(self) -> str:
        return f"{self.prefix}:alerts*"

    @property
    def stream(self) -> str:
        return f"{self.prefix}:stream:alerts"

    def dedupe(self, alert_id: str) -> str:
        return f"{self.prefix}:dedupe:{alert_id}"

    @property
    def subscriptions(self) -> str:
        return f"{self.prefix}:subscriptions"

    def subscription(self, name: str) -> str:
        """The channel of a named subscription's matches (and digests)."""
        return f"{self.prefix}:alerts:sub:{name}"

    def rate(self, name: str, window: int) -> str:
        return f"{self.prefix}:rate:{name}:{window}"

    def digest(self, name: str) -> str:
        return f"{self.prefix}:digest:{name}"

    def trend_counts(self, window: int) -> str:
        """Term -> count of one trend window; one hash tag for all, so one script reads them all
        (Redis Cluster needs a script's keys in one slot)."""
        return f"{{{self.prefix}:trends}}:counts:{window}"

    def trend_seen(self, window: int) -> str:
        """Articles already counted in a window: a redelivered record is not counted twice."""
        return f"{{{self.prefix}:trends}}:seen:{window}"

    def trend_stories(self, window: int) -> str:
        """Article id -> what an alert lists of the story (title, url, severity), of one window."""
        return f"{{{self.prefix}:trends}}:stories:{window}"

    def trend_members(self, window: int, term: str) -> str:
        """The stories counted for one term in one window."""
        return f"{{{self.prefix}:trends}}:members:{window}:{term}"

    def trend_alerted(self, window: int) -> str:
        """Terms that raised their alert in a window, and (`trend_covered`) the stories listed."""
        return f"{{{self.prefix}:trends}}:alerted:{window}"

    def trend_covered(self, window: int) -> str:
        return f"{{{self.prefix}:trends}}:covered:{window}"

    @property
    def trend_watermark(self) -> str:
        """The latest event time counted (epoch seconds): what the watermark trails."""
        return f"{{{self.prefix}:trends}}:watermark"

    def held(self, name: str) -> str:
        """The alerts a subscription's digest holds (its e-mail target's; the key's name is
        from when e-mail was the one channel with digests)."""
        return f"{self.prefix}:mail:{name}"

    @property
    def dead_deliveries(self) -> str:
        """Dead letters of the delivery channels (webhook, chats, e-mail)."""
        return f"{self.prefix}:stream:webhooks:dead"

    def status(self, service: str, instance: str) -> str:
        """One replica's heartbeat hash (services/common/health.py), expiring with its TTL."""
        return f"{self.prefix}:status:{service}:{instance}"

    @property
    def status_pattern(self) -> str:
        """What `newswire status` scans for: every replica's heartbeat."""
        return f"{self.prefix}:status:*"

    @property
    def feeds(self) -> str:
        """The configured feeds: URL -> `FeedConfig` (services/ingest/feeds/store.py)."""
        return f"{self.prefix}:feeds"

    def feed_state(self, feed: str) -> str:
        """A feed's polling state; `feed` is the URL's short hash (`feed_key`)."""
        return f"{self.prefix}:feed:{feed}:state"

    def feed_seen(self, feed: str) -> str:
        """The entry ids a feed has already published."""
        return f"{self.prefix}:feed:{feed}:seen"

    @property
    def ops(self) -> str:
        """The channel of operational events (a feed failing or stale), and their stream."""
        return f"{self.prefix}:ops"

    @property
    def ops_stream(self) -> str:
        return f"{self.prefix}:stream:ops"

    def dashboard_article(self, article_id: str) -> str:
        """A tagged article's text as the dashboard's detail view shows it."""
        return f"{self.prefix}:dashboard:article:{article_id}"

    # -- the alerts stage's story store (services/alerts/store.py) -----------------------------
    def story(self, story_id: str) -> str:
        """A story's record (schemas.Story, compact JSON)."""
        return f"{self.prefix}:story:{story_id}"

    def story_articles(self, story_id: str) -> str:
        """The set of a story's article ids (a redelivery is an article already in it)."""
        return f"{self.story(story_id)}:articles"

    def bucket_version(self, bucket: str) -> str:
        """Bumped by every commit to the bucket (a story location's country): the check-and-set."""
        return f"{self.prefix}:stories:{bucket}:version"

    def bucket_index(self, bucket: str) -> str:
        """The bucket's stories (zset, scored by each story's last article time)."""
        return f"{self.prefix}:stories:{bucket}:index"

    @property
    def story_pattern(self) -> str:
        """SCAN pattern of the story records and their article sets."""
        return f"{self.prefix}:story:*"

    @property
    def bucket_pattern(self) -> str:
        """SCAN pattern of the bucket versions and indexes."""
        return f"{self.prefix}:stories:*"
