from __future__ import annotations

from dataclasses import MISSING, astuple, fields
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from schemas import EnrichedArticle, Entity, StageTimes, StoryTerms, TaggedArticle, Topic
from services.alerts.core import StoryState
from services.alerts.trend_terms import event_places, trend_records, trend_terms
from services.common.settings import Settings
from services.text.datafile import DataFileError
from services.trends.core import (
    Baseline,
    StoryRef,
    TrendConfig,
    event_time,
    is_closed,
    spike,
    tail_probability,
    trend_alert,
    trend_severity,
    window_of,
)
from services.trends.terms import load_trend_terms

# The defaults: 1 h windows, 24 baseline windows, warm-up 12, min 5, x2, floor 0.5, 1e-4.
CFG = TrendConfig.from_settings(Settings())
H = 3600


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


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC)


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


def test_escalation_terms_are_where_between_whom_and_with_what() -> None:
    from services.offline.analyze import tagged_from

    t = tagged_from(
        "Missiles hit Kharkiv",
        "Russian forces fired Iskander missiles at Kharkiv, killing five civilians.",
        published="2026-11-20T08:00:00Z",
    )
    terms = [x for x in trend_terms(t) if x.split(":")[0] in ("place", "actors", "weapon")]
    assert terms == ["actors:RU>UA", "place:UA", "place:UA/Kharkiv", "weapon:Iskander"]
    [rec] = trend_records(t, StoryState())
    assert "missile-strike" in rec.events and rec.severity in ("high", "critical")


def test_a_place_uses_the_event_location_when_there_is_one() -> None:
    from services.offline.analyze import tagged_from

    t = tagged_from("Shelling", "Russian artillery shelled Kharkiv on Monday.")
    event = t.events[-1]  # the sentence with the place
    assert event_places(event, t) == ["UA", "UA/Kharkiv"]  # the event location's city
    located = SimpleNamespace(
        type=event.type, actor=event.actor, target=event.target, sentence=event.sentence,
        event_location=SimpleNamespace(country="UA", admin_area="Kharkiv Oblast", city="Kharkiv"),
    )  # fmt: skip
    assert event_places(located, t) == ["UA", "UA/Kharkiv Oblast"]  # type: ignore[arg-type]


def test_event_time_is_publication_bounded_by_ingestion() -> None:
    def story(published: str | None, ingested: str | None) -> StoryTerms:
        times = StageTimes(
            published=_at(published) if published else None,
            ingested=_at(ingested) if ingested else None,
        )
        return StoryTerms(article_id="a", terms=[], times=times)

    kafka = _at("2026-11-20T12:00:00").timestamp()
    assert event_time(story("1987-03-02T13:00:00", "2026-11-20T11:59:00"), kafka, CFG) == (
        _at("1987-03-02T13:00:00").timestamp()  # an archive keeps its dates
    )
    assert event_time(story("2027-01-01T00:00:00", "2026-11-20T11:59:00"), kafka, CFG) == (
        _at("2026-11-20T11:59:00").timestamp()  # dated in the future: its ingestion
    )
    assert event_time(story(None, None), kafka, CFG) == kafka  # undated, unstamped: the record


def test_windows_and_the_watermark() -> None:
    assert window_of(7200.0, CFG) == 7200
    assert window_of(10799.9, CFG) == 7200
    assert not is_closed(7200, 7200 + 3 * H - 1, CFG)  # within the 2 h of lateness
    assert is_closed(7200, 7200 + 3 * H, CFG)


def test_the_tail_probability_is_poisson_or_wider() -> None:
    assert tail_probability(6, 0.5, 0.5) == pytest.approx(1.4165e-5, rel=1e-3)
    assert tail_probability(0, 3.0, 3.0) == 1.0
    assert tail_probability(12, 3.0, 9.0) > tail_probability(12, 3.0, 3.0)  # bursty: less rare


def _base(counts: list[int], observed: int | None = None) -> Baseline:
    n = len(counts) if observed is None else observed
    return Baseline.of(counts, [1] * n + [0] * (len(counts) - n))


def test_no_spike_before_the_warm_up_however_many() -> None:
    assert spike("place:UA", 50, _base([0] * 24, observed=11), CFG) is None
    assert spike("place:UA", 50, _base([0] * 24, observed=12), CFG) is not None


def test_a_spike_needs_volume_a_jump_and_a_small_tail() -> None:
    assert spike("place:UA", 5, _base([0] * 24), CFG) is None  # p(5 | 0.5) = 1.7e-4
    s = spike("place:UA", 6, _base([0] * 24), CFG)
    assert s is not None and s.expected == 0.5  # the floor
    assert spike("place:UA", 14, _base([6, 8] * 12), CFG) is None  # 14 < 2 x 7
    assert spike("place:UA", 20, _base([6, 8] * 12), CFG) is not None
    assert spike("place:UA", 20, _base([0, 14] * 12), CFG) is None  # bursty: 20 is ordinary


def test_unobserved_windows_are_not_zeros() -> None:
    b = Baseline.of([4, 0, 4, 0], [9, 0, 9, 0])
    assert b.counts == (4, 4) and b.observed == 2


def test_severity_from_the_stories_and_the_distance_to_normal() -> None:
    s = spike("place:UA", 6, _base([0] * 24), CFG)
    assert s is not None
    refs = [StoryRef(str(i), severity="high" if i < 2 else "low") for i in range(6)]
    assert trend_severity(refs, s, CFG) == "high"  # a third of the stories are high
    refs = [StoryRef(str(i), severity="high" if i < 1 else "low") for i in range(6)]
    assert trend_severity(refs, s, CFG) == "low"
    far = spike("place:UA", 12, _base([0] * 24), CFG)
    assert far is not None and far.p_value < CFG.alpha / 100
    refs = [StoryRef(str(i), severity="medium") for i in range(12)]
    assert trend_severity(refs, far, CFG) == "high"  # far above normal: one step up


def test_trend_alert_lists_the_stories_and_its_id_is_per_term_and_window() -> None:
    src = StoryTerms(article_id="a6", url="https://example.org/a6", terms=["place:UA"])
    refs = [StoryRef(f"a{i}", f"Story {i}", None, "high", 6.0) for i in range(1, 7)]
    s = spike("place:UA", 6, _base([0] * 24), CFG)
    assert s is not None
    one = trend_alert(s, refs, 7200.0, CFG, src)
    again = trend_alert(s, refs[:5], 7200.0, CFG, src)
    later = trend_alert(s, refs, 10800.0, CFG, src)
    assert one.id == again.id != later.id
    assert [m.term for m in one.matches] == ["a6", "a5", "a4", "a3", "a2", "a1"]
    assert one.matches[0].sentence == "[high] Story 6"
    assert (one.article_id, one.url, one.countries) == ("a6", "https://example.org/a6", ["UA"])
    assert one.rule_id == "trend" and one.severity == "high" and one.story_articles == 6
    assert "6 stories" in one.rule_description and "0.5 expected" in one.rule_description


def test_the_trends_file_counts_escalation_stories_only() -> None:
    terms = load_trend_terms()
    story = StoryTerms(
        article_id="a",
        terms=["actors:RU>UA", "country:RU", "place:UA", "place:UA/Kharkiv Oblast", "topic:x"],
        events=["missile-strike"],
    )
    assert terms.terms_of(story) == ["place:UA", "place:UA/Kharkiv Oblast", "actors:RU>UA"]
    assert terms.terms_of(story.model_copy(update={"events": ["ceasefire"]})) == []
    assert terms.terms_of(story.model_copy(update={"events": []})) == []
    assert sorted(["actors:RU>UA", "place:UA", "place:UA/K"], key=terms.priority) == [
        "place:UA/K",
        "place:UA",
        "actors:RU>UA",
    ]


def test_a_bad_trends_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "trends.yaml"
    bad.write_text("events: [missile-strike,\n  tea-party]\nkinds: [place, country, vibes]\n")
    with pytest.raises(DataFileError) as err:
        load_trend_terms(bad)
    assert f"{bad}:3: kinds[2]" in str(err.value)
    bad.write_text("events: [missile-strike,\n  tea-party]\nkinds: [place]\n")
    with pytest.raises(DataFileError) as err:
        load_trend_terms(bad)
    assert f"{bad}:2: events[1]: unknown event type 'tea-party'" in str(err.value)


def test_trend_config_declares_no_default_and_takes_every_field_from_settings() -> None:
    """The defaults live in `Settings` only: a config built from other settings has all of them."""
    assert all(f.default is MISSING for f in fields(TrendConfig))
    s = Settings(
        trend_window_s=60,
        trend_baseline_windows=3,
        trend_warmup_windows=2,
        trend_min_count=7,
        trend_factor=3.0,
        trend_baseline_floor=0.25,
        trend_alpha=0.01,
        trend_lateness_s=30,
        trend_max_future_s=5,
    )
    assert astuple(TrendConfig.from_settings(s)) == (60, 3, 2, 7, 3.0, 0.25, 0.01, 30, 5)
    assert CFG.window_s == Settings.model_fields["trend_window_s"].default
