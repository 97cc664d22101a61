"""All settings, from environment variables and an optional TOML file (NEWSWIRE_CONFIG)."""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from services.common.redact import mask_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Public corpora for benchmarks and evaluation (never in the repo): ../shared/corpora beside the clone.
CORPORA = Path(os.environ.get("NEWSWIRE_CORPORA", str(PROJECT_ROOT.parent / "shared" / "corpora")))


def _config_file() -> Path:
    return Path(os.environ.get("NEWSWIRE_CONFIG", "newswire.toml"))


class ApiClient(BaseModel):
    """One ingest client: its token, and the `source` values it may put on an article."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Recorded on its articles.")
    token: SecretStr = Field(description="Its bearer token (never shown).")
    sources: list[str] = Field(
        default_factory=list,
        description="Sources it may claim (glob patterns, `*` any); its own name always.",
    )

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("a client token needs at least 16 characters")
        return value


class Settings(BaseSettings):
    """Defaults work on the local stack; every field is NEWSWIRE_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore")

    kafka_bootstrap_servers: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "NEWSWIRE_KAFKA_BOOTSTRAP_SERVERS"
        ),
        description="External Kafka; when unset the local stack's broker is used.",
    )
    redis_url: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "NEWSWIRE_REDIS_URL"),
        description="External Redis; when unset the local stack's redis-server is used. A "
        "secret: it may carry the password (`settings.redis` gives the usable URL).",
    )
    state_dir: Path = Field(PROJECT_ROOT / ".newswire", description="Local stack data and logs.")
    kafka_port: int = Field(9092, description="Local Kafka broker port.")
    kafka_controller_port: int = Field(9093, description="Local KRaft controller port.")
    redis_port: int = Field(6379, description="Local redis-server port.")
    topic_prefix: str = Field("newswire", description="Prefix of every Kafka topic name.")
    partitions: int = Field(3, ge=1, description="Partitions of each topic created at start-up.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of created topics.")
    redis_prefix: str = Field("newswire", description="Prefix of Redis channels, stream and keys.")
    alerts_stream_maxlen: int = Field(100_000, ge=1, description="Cap of the alert history stream.")
    alert_dedupe_ttl_s: int = Field(
        7 * 24 * 3600, ge=1, description="How long an alert id is remembered."
    )
    digest_window_s: int = Field(
        60,
        ge=1,
        description="Rate-limit window of subscriptions; digests are flushed once a window.",
    )
    trend_window_s: float = Field(
        3600.0, gt=0, description="Trend counting window, in event time (docs/trends.md)."
    )
    trend_baseline_windows: int = Field(
        24, ge=1, description="Windows before the current one that form a term's baseline."
    )
    trend_warmup_windows: int = Field(
        12,
        ge=0,
        description="Baseline windows that must have been observed (a story counted in them) "
        "before any term can trend.",
    )
    trend_factor: float = Field(
        2.0, gt=1, description="A trend is at least this many times the expected count."
    )
    trend_min_count: int = Field(5, ge=1, description="Fewest stories in a window for a trend.")
    trend_baseline_floor: float = Field(
        0.5, gt=0, description="Lowest expected stories per window of a term (a new term's)."
    )
    trend_alpha: float = Field(
        1e-4,
        gt=0,
        lt=1,
        description="Largest tail probability of a trend's count under its baseline: the "
        "expected false-alarm rate per term and window checked.",
    )
    trend_lateness_s: float = Field(
        7200.0,
        ge=0,
        description="How far behind the latest event time a story may be and still raise an "
        "alert about its window (it is counted either way).",
    )
    trend_max_future_s: float = Field(
        900.0,
        ge=0,
        description="Publication times later than ingestion plus this are implausible: such "
        "stories count at their ingestion time.",
    )
    trends_file: Path = Field(
        PROJECT_ROOT / "services" / "trends" / "data" / "trends.yaml",
        description="What the trends worker counts: event types and term kinds.",
    )
    http_host: str = Field("127.0.0.1", description="Ingest HTTP bind address.")
    http_port: int = Field(8080, description="Ingest HTTP port.")
    webhook_secret: SecretStr | None = Field(
        None, description="Key of the HMAC-SHA256 signature of subscription webhooks (never shown)."
    )
    dashboard_port: int = Field(8081, description="Dashboard HTTP port (`newswire run dashboard`).")
    max_batch: int = Field(1000, ge=1, description="Most articles in one POST /articles.")
    send_timeout_s: float = Field(10.0, gt=0, description="Bound on one Kafka send.")
    record_budget_s: float = Field(
        5.0,
        ge=0,
        description="CPU seconds one record's compute may take (0: no limit, in-process).",
    )
    worker_batch_max: int = Field(
        200,
        ge=1,
        description="Records a worker takes into one batch (what is already buffered, no timer); "
        "1 = one at a time.",
    )
    rules_file: Path = Field(
        PROJECT_ROOT / "services" / "alerts" / "data" / "rules.yaml", description="Alert rules."
    )
    taxonomy_file: Path = Field(
        PROJECT_ROOT / "services" / "text" / "data" / "taxonomy.yaml",
        description="Topic taxonomy.",
    )
    log_level: str = Field("INFO", description="Log level of every service.")
    log_format: Literal["json", "text"] = Field(
        "json", description="`json` (one object per line, with article/story/alert ids) or `text`."
    )
    metrics_host: str = Field(
        "127.0.0.1", description="Bind address of each worker's health and metrics server."
    )
    metrics_port: int | None = Field(
        None,
        ge=0,
        description="Worker health/metrics port; unset: 9101 enrichment, 9102 tagging, "
        "9103 alerts, 9104 trends (ingest serves them on its HTTP port); 0: any free port.",
    )
    status_interval_s: float = Field(
        10.0, gt=0, description="How often a service refreshes its heartbeat and lag gauge."
    )
    retention_days: float = Field(
        7.0, gt=0, description="Retention of the article topics (`topics create`)."
    )
    deadletter_retention_days: float = Field(
        30.0, gt=0, description="Retention of the alerts and dead-letter topics."
    )
    # ---- delivery and security (issue 5) -------------------------------------------------
    api_token: SecretStr | None = Field(
        None, description="Bearer token required by the ingest API; unset means no auth."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest POST /articles body; larger gets 413."
    )
    rate_limit_per_s: float = Field(
        50.0, ge=0, description="Requests per second per client IP (0 disables); excess gets 429."
    )
    rate_limit_burst: int = Field(100, ge=1, description="Requests a client may send at once.")
    max_past_days: int = Field(
        36500, ge=1, description="`published_at` older than this many days is rejected."
    )
    max_future_s: int = Field(
        86400, ge=0, description="`published_at` further ahead than this is rejected."
    )
    kafka_session_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Consumer group session timeout: how soon a dead worker's partitions move.",
    )
    kafka_compression: Literal["none", "lz4", "zstd", "gzip", "snappy"] = Field(
        "none",
        description="Producer compression of every record the services write (zstd: a batch of "
        "JSON records shrinks ~7x, CPU per article unchanged on one machine; opt-in until the "
        "fault tier has run with it; docs/performance.md). aiokafka's lz4 is its slow level.",
    )
    kafka_security_protocol: str = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: str = Field(
        "PLAIN", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (never logged).")
    kafka_ssl_cafile: Path | None = Field(
        None, description="CA bundle that signed the broker certificate."
    )
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    kafka_ssl_keyfile: Path | None = Field(None, description="Client key (mutual TLS).")
    redis_ssl_ca_certs: Path | None = Field(
        None, description="CA bundle for `rediss://` URLs (user and password go in the URL)."
    )
    dlq_max_attempts: int = Field(
        5, ge=1, description="A dead letter replayed this often is not replayed again."
    )

    # ---- alerts in feed readers, chat and e-mail (issue 21) -----------------------------
    dashboard_url: str | None = Field(
        None,
        description="Public base URL of the dashboard, for links in messages and feeds; unset: "
        "http://<http_host>:<dashboard_port>.",
    )
    subscription_key: SecretStr | None = Field(
        None,
        description="Encrypts subscription targets at rest (any long random string; several, "
        "comma-separated: the first seals, any opens); unset: stored in plain text.",
    )
    telegram_bot_token: SecretStr | None = Field(
        None, description="Telegram bot token of subscriptions without --token-env (never logged)."
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org", description="Telegram Bot API base URL."
    )
    chat_max_retry_after_s: float = Field(
        60.0,
        gt=0,
        description="Longest 429 retry_after a chat or webhook delivery waits; beyond it, a dead letter.",
    )
    smtp_host: str | None = Field(
        None, description="SMTP server of e-mail alerts; unset: no e-mail."
    )
    smtp_port: int = Field(587, ge=1, description="SMTP port (587: submission with STARTTLS).")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str | None = Field(None, description="SMTP AUTH user name; unset: no AUTH.")
    smtp_password: SecretStr | None = Field(None, description="SMTP AUTH password (never logged).")
    smtp_from: str = Field("newswire@localhost", description="From address of e-mail alerts.")
    smtp_ca_file: Path | None = Field(
        None, description="CA bundle that signed the SMTP server's certificate (else the system's)."
    )
    smtp_timeout_s: float = Field(30.0, gt=0, description="Bound on one SMTP conversation.")

    # ---- inputs validated the same way; the one outbound client (issue 27, inputs) ------
    ingest_not_before: datetime = Field(
        datetime(1980, 1, 1, tzinfo=UTC),
        description="`published_at` before this is rejected on every input path (HTTP, replay, "
        "feeds): it catches 1900 and epoch-zero placeholders, and lets the archives analysts "
        "replay (Reuters-21578 of 1987, MUC-4 of 1988-91) through; set it earlier for older ones.",
    )
    replay_max_file_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="Most bytes a replay reads from one .json, .txt, .md or .xml file (read whole), "
        "after decompression; beyond it the file is reported and left (a 208 KB gzip bomb once "
        "took 604 MB). JSONL and CSV are streamed line by line and have no such cap.",
    )
    feed_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        description="Largest feed body read; a larger one fails the poll.",
    )
    outbound_allow: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR, JSON list) the outbound client may reach although they are "
        "loopback, private, link-local or otherwise internal: tests and internal receivers only.",
    )
    outbound_timeout_s: float = Field(
        30.0, gt=0, description="Bound on one outbound HTTP request, redirects included."
    )
    outbound_max_redirects: int = Field(
        5, ge=0, description="Most redirects followed where they are on (feeds); each re-checked."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR, JSON list) of reverse proxies whose X-Forwarded-For ingest "
        "believes for the client address; unset: the peer address, the header ignored.",
    )
    rate_limit_articles_per_s: float = Field(
        200.0,
        ge=0,
        description="Articles per second per token (per client address without a token); a "
        "batch counts its articles (0 disables); excess gets 429.",
    )
    rate_limit_articles_burst: int = Field(
        1000, ge=1, description="Articles a token may send at once; also the largest batch."
    )

    # ---- clients bound to the sources they may claim (issue 27, inputs 2) ----------------
    api_clients: list[ApiClient] = Field(
        default_factory=list,
        description="Ingest clients, each with its own token and the sources it may claim (JSON "
        'list: [{"name": "wire-a", "token": "...", "sources": ["Wire A"]}]); NEWSWIRE_API_TOKEN '
        "is one more client, `api_token_client`, that may claim any source.",
    )
    api_token_client: str = Field(
        "default", min_length=1, max_length=200, description="Client name of NEWSWIRE_API_TOKEN."
    )

    @field_validator("api_clients")
    @classmethod
    def _distinct_clients(cls, value: list[ApiClient]) -> list[ApiClient]:
        names = [c.name for c in value]
        tokens = [c.token.get_secret_value() for c in value]
        if len(set(names)) != len(names) or len(set(tokens)) != len(tokens):
            raise ValueError("api_clients: every client needs its own name and its own token")
        return value

    @field_validator("outbound_allow", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            ipaddress.ip_network(net, strict=False)  # ValueError names the bad entry
        return value

    # ---- the dashboard's ways in (issue 27) ----------------------------------------------
    dashboard_session_secret: SecretStr | None = Field(
        None,
        description="Key that signs dashboard session cookies; unset: derived from api_token "
        "(rotating the token ends every session).",
    )
    dashboard_session_ttl_s: int = Field(
        12 * 3600, ge=60, description="Lifetime of a dashboard login session."
    )
    dashboard_cookie_secure: bool | None = Field(
        None,
        description="Mark the session cookie Secure; unset: when dashboard_url or the request "
        "is https.",
    )
    dashboard_sse_max_clients: int = Field(
        500, ge=1, description="Most concurrent SSE clients of one dashboard process; more get 503."
    )
    dashboard_sse_queue: int = Field(
        1000,
        ge=1,
        description="Alerts queued for one SSE client; a client that falls further behind is "
        "dropped (it reconnects and resumes from its Last-Event-ID).",
    )
    dashboard_catchup_max: int = Field(
        500,
        ge=1,
        description="Most alerts one SSE response replays after a Last-Event-ID; the rest come "
        "page by page on the reconnects.",
    )
    dashboard_sse_keepalive_s: float = Field(
        15.0, gt=0, description="Comment line sent on an idle SSE stream this often."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )

    @property
    def external(self) -> bool:
        return self.kafka_bootstrap_servers is not None and self.redis_url is not None

    @property
    def bootstrap(self) -> str:
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.kafka_port}"

    @property
    def redis(self) -> str:
        """The usable URL, password included: for clients only, never for a message (mask_url)."""
        if self.redis_url is not None:
            return self.redis_url.get_secret_value()
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def redis_shown(self) -> str:
        """The Redis URL for messages: password masked."""
        return mask_url(self.redis)

    @property
    def public_dashboard(self) -> str:
        return (self.dashboard_url or f"http://{self.http_host}:{self.dashboard_port}").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
