from __future__ import annotations

from schemas import EnrichedArticle, Entity, StageTimes, TaggedArticle, Topic
from services.alerts.trends import TrendConfig, is_spike, trend_alert, trend_terms

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


def test_spike_needs_volume_and_a_jump_over_baseline() -> None:
    assert not is_spike(9, [0] * 24, CFG)  # too few
    assert is_spike(10, [0] * 24, CFG)  # new term with volume
    assert not is_spike(20, [8] * 24, CFG)  # 20 < 3 * (8 + 1)
    assert is_spike(27, [8] * 24, CFG)


def test_trend_alert_id_is_per_term_and_window() -> None:
    one = trend_alert("topic:nuclear", 30, [1] * 24, 7200.0, CFG, _tagged())
    again = trend_alert("topic:nuclear", 31, [1] * 24, 7200.0, CFG, _tagged())
    later = trend_alert("topic:nuclear", 30, [1] * 24, 10800.0, CFG, _tagged())
    assert one.id == again.id != later.id
    assert one.rule_id == "trend"
    assert "nuclear" in one.title
    assert "30 articles" in one.matches[0].sentence
