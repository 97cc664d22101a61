from __future__ import annotations

from schemas import EnrichedArticle, Entity, StageTimes, StoryTerms, TaggedArticle, Topic
from services.alerts.core import StoryState
from services.alerts.trend_terms import trend_records, trend_terms
from services.trends.core import TrendConfig, is_spike, trend_alert, window_of

CFG = TrendConfig(window_s=3600, baseline_windows=24, factor=3.0, min_count=10)


def _tagged() -> TaggedArticle:
    art = EnrichedArticle(
        id="a1",
        title="t",
        body="b",
        language="en",
        language_confidence=1.0,
        entities=[
            Entity(type="person", name="Dmitry Peskov", mentions=2),
            Entity(type="place", name="Sumy", mentions=1, country="UA"),
        ],
        countries=["RU", "UA"],
        word_count=2,
        times=StageTimes(),
    )
    return TaggedArticle(article=art, topics=[Topic(id="nuclear", label="Nuclear")])


def test_terms_are_counted_once_per_article() -> None:
    assert trend_terms(_tagged()) == [
        "country:RU",
        "country:UA",
        "entity:Dmitry Peskov",
        "topic:nuclear",
    ]


def test_an_opening_article_sends_one_record_with_all_its_terms() -> None:
    state = StoryState()
    [rec] = trend_records(_tagged(), state)
    assert rec.terms == trend_terms(_tagged())
    assert (rec.id, rec.article_id) == ("a1", "a1")  # keyed by the article, not by the term
    assert StoryTerms.model_validate_json(rec.model_dump_json()) == rec


def test_window_is_the_tumbling_window_of_the_record_time() -> None:
    assert window_of(7200.0, CFG) == 7200
    assert window_of(10799.9, CFG) == 7200
    assert window_of(10800.0, CFG) == 10800


def test_spike_needs_volume_and_a_jump_over_baseline() -> None:
    assert not is_spike(9, [0] * 24, CFG)  # too few
    assert is_spike(10, [0] * 24, CFG)  # new term with volume
    assert not is_spike(20, [8] * 24, CFG)  # 20 < 3 * (8 + 1)
    assert is_spike(27, [8] * 24, CFG)


def test_trend_alert_id_is_per_term_and_window() -> None:
    src = StoryTerms(article_id="a1", url="https://example.org/a1", terms=["topic:nuclear"])
    one = trend_alert("topic:nuclear", 30, [1] * 24, 7200.0, CFG, src)
    again = trend_alert("topic:nuclear", 31, [1] * 24, 7200.0, CFG, src)
    later = trend_alert("topic:nuclear", 30, [1] * 24, 10800.0, CFG, src)
    assert one.id == again.id != later.id
    assert (one.article_id, one.url) == ("a1", "https://example.org/a1")
    assert one.rule_id == "trend"
    assert "nuclear" in one.title
    assert "30 articles" in one.matches[0].sentence


def test_only_the_first_article_of_a_story_feeds_trends() -> None:
    from services.alerts.trend_terms import opens_story
    from services.offline.analyze import tagged_from

    body = (
        "Russian forces shelled Kherson on Monday, damaging homes near the river, officials said."
    )
    state = StoryState()
    first = tagged_from(
        "Kherson shelled", body, url="https://a.example/1", published="2026-11-20T08:00:00Z"
    )
    copy = tagged_from(
        "Kherson shelled again", body, url="https://b.example/1", published="2026-11-20T08:05:00Z"
    )
    other = tagged_from(
        "Drone strike on Lviv",
        "A drone strike hit a warehouse in Lviv, the mayor said.",
        url="https://c.example/1",
        published="2026-11-20T08:06:00Z",
    )
    assert opens_story(first, state)
    assert not opens_story(copy, state)
    assert opens_story(first, state)  # a redelivery of the first stays the first
    assert opens_story(other, state)
