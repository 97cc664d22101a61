"""The pipeline's topology, declared once: which stage reads and writes which topic, its consumer
group, its health port, its entry point, and what the Kafka channels carry.

Supervision (`newswire up`), topic administration, health, status, the AsyncAPI document, the CLI,
the benches and each worker's `Stage` read it from here; a new stage is one more `StageSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import Settings


@dataclass(frozen=True)
class StageSpec:
    name: str
    consumes: tuple[str, ...]  # `Topics` attributes, main input first
    produces: tuple[str, ...]  # `Topics` attributes, main output first
    metrics_port: int  # health and metrics port when `metrics_port` is not set (0: any free)
    module: str  # the module whose `build(settings)` makes the faust app ("" for ingest: HTTP)
    delivers: bool = False  # also delivers alerts to Redis


STAGES: tuple[StageSpec, ...] = (
    StageSpec("ingest", (), ("raw",), 0, ""),
    StageSpec("enrichment", ("raw",), ("enriched",), 9101, "services.enrichment.worker"),
    StageSpec("tagging", ("enriched",), ("tagged",), 9102, "services.tagging.worker"),
    StageSpec(
        "alerts", ("tagged",), ("alerts", "trend_terms"), 9103, "services.alerts.worker", True
    ),
    StageSpec("trends", ("trend_terms",), ("alerts",), 9104, "services.trends.worker", True),
)
BY_NAME = {s.name: s for s in STAGES}
SERVICES = tuple(s.name for s in STAGES)  # what `newswire up` starts, in pipeline order
WORKERS = tuple(s.name for s in STAGES if s.consumes)  # the faust stages, one group each
# Processes outside the Kafka pipeline: they read Redis (and the dashboard a Kafka topic for lag).
EXTRA_SERVICES = ("dashboard", "webhooks")

# Kafka channel of the AsyncAPI document -> (Topics attribute, message and payload schema, key).
CHANNELS: dict[str, tuple[str, str, str]] = {
    "articlesRaw": (
        "raw",
        "RawArticle",
        "Article id (deterministic from canonical URL, else normalised content).",
    ),
    "articlesEnriched": ("enriched", "EnrichedArticle", "Article id."),
    "articlesTagged": ("tagged", "TaggedArticle", "Article id."),
    "alerts": ("alerts", "Alert", "Alert id (deterministic from article or story id and rule id)."),
    "deadletter": ("deadletter", "DeadLetter", "The original record's key, unchanged."),
    "trendTerms": ("trend_terms", "StoryTerms", "Article id of the story-opening article."),
}


def stage(name: str) -> StageSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown stage {name!r}; stages: {', '.join(SERVICES)}") from None


def inputs(name: str) -> tuple[str, ...]:
    """The Topics attributes a stage's consumer group reads; none for a process outside the
    pipeline (the bench's relay)."""
    return BY_NAME[name].consumes if name in BY_NAME else ()


def group_id(settings: Settings, name: str) -> str:
    """faust's app id, which is its consumer group: `<topic_prefix>-<stage>`."""
    return f"{settings.topic_prefix}-{name}"


def producers(attr: str) -> list[str]:
    return [s.name for s in STAGES if attr in s.produces]


def consumers(attr: str) -> list[str]:
    return [s.name for s in STAGES if attr in s.consumes]


METRICS_PORTS = {s.name: s.metrics_port for s in STAGES if s.metrics_port}
