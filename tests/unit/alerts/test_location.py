"""Event location (ActionGeo): the place the event hit, not the speaker's or supplier's country."""

from __future__ import annotations

from schemas import TaggedArticle
from services.offline.analyze import tagged_from


def _where(t: TaggedArticle) -> list[tuple[str, str | None, str]]:
    return [
        (e.location.name, e.location.country, e.location.source) for e in t.events if e.location
    ]


def test_the_city_the_strike_hit_not_the_speaker() -> None:
    t = tagged_from(
        "Strike",
        "A Russian missile struck an apartment block in Kharkiv on Monday, killing 12 people, "
        "the regional governor said. Officials in Kyiv condemned it.",
    )
    assert _where(t) and all(name == "Kharkiv" for name, _, _ in _where(t))
    loc = t.events[0].location
    assert loc is not None and loc.country == "UA" and loc.lat and loc.lon
    assert loc.confidence >= 0.9 and loc.admin1


def test_a_neighbour_sentence_gives_the_place_when_the_event_sentence_has_none() -> None:
    t = tagged_from("Drone attack overnight", "A drone attack hit Odesa overnight, officials said.")
    assert ("Odesa", "UA", "neighbour") in _where(t)


def test_the_target_country_when_no_city_is_named() -> None:
    t = tagged_from("Missiles", "Iran launched ballistic missiles at Israel on Monday night.")
    assert _where(t) == [("Israel", "IL", "target")]


def test_the_supplier_is_not_the_place() -> None:
    t = tagged_from(
        "Strike",
        "Ukrainian forces fired American-supplied missiles that hit an ammunition depot in "
        "Belgorod on Tuesday.",
    )
    assert {name for name, _, _ in _where(t)} == {"Belgorod"}


def test_no_place_no_location() -> None:
    t = tagged_from("Strike", "A missile strike destroyed a warehouse overnight.")
    assert t.events and all(e.location is None for e in t.events)
