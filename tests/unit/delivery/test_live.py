"""Subscriber helpers: which alerts a pattern wants (for stream backfill), and once-only ids."""

from __future__ import annotations

from services.common.topics import RedisKeys
from services.delivery.live import _Seen, wanted
from tests.unit.delivery.test_subscriptions import _alert

KEYS = RedisKeys("nw")


def test_backfill_matches_the_same_channels_as_psubscribe() -> None:
    assert wanted(_alert(), "nw:alerts", KEYS)
    assert wanted(_alert(), "nw:alerts:severity:*", KEYS)
    assert not wanted(_alert("low"), "nw:alerts:severity:high", KEYS)
    assert wanted(_alert(countries=["UA"]), "nw:alerts:country:UA", KEYS)
    assert not wanted(_alert(countries=["PL"]), "nw:alerts:country:UA", KEYS)
    assert not wanted(_alert(), "other:alerts", KEYS)


def test_seen_yields_each_id_once_and_stays_bounded() -> None:
    seen = _Seen(size=2)
    assert [seen.add(i) for i in ("a", "a", "b")] == [True, False, True]
    seen.add("c")  # "a" falls out
    assert seen.add("a")
