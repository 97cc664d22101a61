"""The corpus of tests/unit/trends/corpus.py as tagged articles with publication times: the
ordinary news spread over the day before `T`, the surge within one hour from `T`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas import RawArticle, StageTimes, TaggedArticle
from services.enrichment.core import enrich
from services.tagging.core import tag
from tests.unit.trends.corpus import ORDINARY, SURGE

T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the start of the surge's window


def article(title: str, body: str, published: datetime, marker: str = "") -> TaggedArticle:
    raw = RawArticle(  # type: ignore[call-arg]
        title=f"{title} {marker}".strip(),
        body=body,
        url=f"https://news.example/{marker}{abs(hash((title, body))) % 10**8}",
        times=StageTimes(published=published),
    )
    return tag(enrich(raw))


def ordinary(marker: str = "", hours: float = 26.0) -> list[TaggedArticle]:
    step = timedelta(hours=hours) / len(ORDINARY)
    start = T - timedelta(hours=hours)
    return [article(t, b, start + i * step, marker) for i, (t, b) in enumerate(ORDINARY)]


def surge(marker: str = "") -> list[TaggedArticle]:
    return [
        article(t, b, T + timedelta(minutes=5 + 6 * i), marker) for i, (_, t, b) in enumerate(SURGE)
    ]
