"""Subscriber helpers: which alerts a pattern wants (for stream backfill), and once-only ids."""

from __future__ import annotations

from schemas import Alert, StageTimes
from services.alerts.subscribe import _Seen, wanted
from services.common.topics import RedisKeys

KEYS = RedisKeys("nw")


def _alert(severity: str = "high", countries: list[str] | None = None) -> Alert:
    return Alert(
        id="a1",
        rule_id="missile-strike",
        rule_description="d",
        severity=severity,  # type: ignore[arg-type]
        score=5.0,
        matches=[],
        article_id="x",
        story_id="x",
        title="t",
        countries=countries or [],
        times=StageTimes(),
    )


def test_backfill_matches_the_same_channels_as_psubscribe() -> None:
    assert wanted(_alert(), "nw:alerts", KEYS)
    assert wanted(_alert(), "nw:alerts:severity:*", KEYS)
    assert not wanted(_alert("low"), "nw:alerts:severity:high", KEYS)
    assert wanted(_alert(countries=["UA"]), "nw:alerts:country:UA", KEYS)
    assert not wanted(_alert(), "nw:alerts:country:*", KEYS)
    assert not wanted(_alert(), "other:alerts", KEYS)


def test_seen_yields_each_id_once_and_stays_bounded() -> None:
    seen = _Seen(size=2)
    assert [seen.add(i) for i in ("a", "a", "b")] == [True, False, True]
    seen.add("c")  # "a" falls out
    assert seen.add("a")
