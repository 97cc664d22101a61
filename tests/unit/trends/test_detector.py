"""The trends detector end to end in one process (services/offline/trends.py): the alerts
stage's story index, the trends file, the counts in memory."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from schemas import Alert, TaggedArticle
from services.common.settings import Settings
from services.offline.trends import Replay
from services.trends.core import TrendConfig
from services.trends.terms import load_trend_terms
from tests.unit.trends.replay import T, article, ordinary, surge

CFG = TrendConfig.from_settings(Settings())


def _run(replay: Replay, articles: list[TaggedArticle]) -> list[Alert]:
    return asyncio.run(replay.run(articles))


@pytest.fixture(scope="module")
def news() -> tuple[list[TaggedArticle], list[TaggedArticle]]:
    return ordinary(), surge()


def test_ordinary_news_raises_nothing_dated_or_as_a_burst(
    news: tuple[list[TaggedArticle], list[TaggedArticle]],
) -> None:
    plain, _ = news
    assert _run(Replay(CFG, load_trend_terms()), plain) == []
    undated = [
        t.model_copy(
            update={
                "article": t.article.model_copy(
                    update={"times": t.article.times.model_copy(update={"published": None})}
                )
            }
        )
        for t in plain
    ]
    assert _run(Replay(CFG, load_trend_terms(), rate=1000), undated) == []


def test_a_surge_in_one_country_raises_one_alert_listing_its_stories_and_a_replay_nothing(
    news: tuple[list[TaggedArticle], list[TaggedArticle]],
) -> None:
    plain, burst = news
    replay = Replay(CFG, load_trend_terms())
    assert _run(replay, plain) == []
    [alert] = _run(replay, burst)
    assert alert.rule_id == "trend"
    assert alert.story_id.startswith("trend:place:UA:")
    assert alert.countries == ["UA"]
    surge_ids = {t.article.id for t in burst}
    listed = [m.term for m in alert.matches]
    assert len(listed) == alert.story_articles == 6  # the sixth story made the spike
    assert set(listed) <= surge_ids
    assert alert.severity == "high"  # what most of the stories are
    assert "expected" in alert.rule_description and "p = " in alert.rule_description
    assert _run(replay, burst) == []  # the same surge again: counted once, nothing new


def test_a_cold_start_raises_nothing_however_large_the_surge(
    news: tuple[list[TaggedArticle], list[TaggedArticle]],
) -> None:
    _, burst = news
    assert _run(Replay(CFG, load_trend_terms()), burst) == []


def test_a_surge_spread_over_a_day_is_no_trend(
    news: tuple[list[TaggedArticle], list[TaggedArticle]],
) -> None:
    plain, burst = news
    slow = [
        article(t.article.title, t.article.body, T + timedelta(hours=3 * i))
        for i, t in enumerate(burst)
    ]
    replay = Replay(CFG, load_trend_terms())
    assert _run(replay, plain) == []
    assert _run(replay, slow) == []
