"""What the seed article must and must not yield (issue 3's evidence list)."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import EnrichedArticle, Entity


def _entity(article: EnrichedArticle, type_: str, name: str) -> Entity:
    found = [e for e in article.entities if e.type == type_ and e.name == name]
    assert found, f"{type_} {name!r} not found in {[(e.type, e.name) for e in article.entities]}"
    return found[0]


@pytest.mark.parametrize(
    ("name", "country"),
    [("Joe Biden", "US"), ("Volodymyr Zelenskyy", "UA"), ("Dmitry Peskov", "RU")],
)
def test_people(seed: EnrichedArticle, name: str, country: str) -> None:
    e = _entity(seed, "person", name)
    assert e.country == country


def test_zelenskyy_alias_and_mentions(seed: EnrichedArticle) -> None:
    e = _entity(seed, "person", "Volodymyr Zelenskyy")
    assert e.aliases == ["Volodymyr Zelenskyy", "Zelenskyy"]
    assert e.mentions == 2


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Ukraine", "UA"),
        ("Russia", "RU"),
        ("United States", "US"),
        ("North Korea", "KP"),
        ("Germany", "DE"),
        ("France", "FR"),
        ("Italy", "IT"),
        ("Sumy", "UA"),
        ("Odesa", "UA"),
    ],
)
def test_places_with_coordinates(seed: EnrichedArticle, name: str, code: str) -> None:
    e = _entity(seed, "place", name)
    assert e.country == code
    assert e.lat is not None and e.lon is not None
    assert -90 <= e.lat <= 90 and -180 <= e.lon <= 180


def test_city_coordinates_are_the_city(seed: EnrichedArticle) -> None:
    sumy, odesa = _entity(seed, "place", "Sumy"), _entity(seed, "place", "Odesa")
    assert (round(sumy.lat or 0), round(sumy.lon or 0)) == (51, 35)
    assert (round(odesa.lat or 0), round(odesa.lon or 0)) == (46, 31)
    assert sumy.kind == odesa.kind == "city"


def test_demonyms_count_for_their_country(seed: EnrichedArticle) -> None:
    russia = _entity(seed, "place", "Russia")
    assert {"Russia", "Russian"} <= set(russia.aliases)
    assert "North Korean" in _entity(seed, "place", "North Korea").aliases
    assert "American" in _entity(seed, "place", "United States").aliases
    assert seed.countries[:2] == ["RU", "UA"]


@pytest.mark.parametrize(
    ("name", "alias", "country"),
    [
        ("North Atlantic Treaty Organization", "NATO", None),
        ("European Union", "EU", None),
        ("Government of Russia", "Kremlin", "RU"),
    ],
)
def test_organisations(seed: EnrichedArticle, name: str, alias: str, country: str | None) -> None:
    e = _entity(seed, "organisation", name)
    assert alias in e.aliases
    assert e.country == country


def test_atacms_is_a_weapon_with_both_names(seed: EnrichedArticle) -> None:
    e = _entity(seed, "weapon", "ATACMS")
    assert set(e.aliases) == {"ATACMS", "Army Tactical Missile System"}
    assert e.mentions == 4


def test_spans_point_at_the_aliases(seed: EnrichedArticle) -> None:
    text = seed.text
    for e in seed.entities:
        assert e.mentions == len(e.spans)
        for s in e.spans:
            assert text[s.start : s.end] in e.aliases


def test_nothing_false(seed: EnrichedArticle) -> None:
    names = {(e.type, e.name) for e in seed.entities}
    assert ("place", "Of") not in names
    assert not any(e.type == "person" and "Officials" in e.name for e in seed.entities)
    assert not any(
        e.type == "place" and e.name == "Moscow" and e.country != "RU" for e in seed.entities
    )
    assert all(e.type != "other" for e in seed.entities)


def test_quantities(seed: EnrichedArticle) -> None:
    by_text = {q.text: q for q in seed.quantities}
    miles = by_text["approximately 70 miles"]
    assert (miles.value, miles.unit, miles.normalized_unit) == (70, "mile", "km")
    assert miles.normalized_value == pytest.approx(112.654, abs=0.01)
    assert miles.approximate and miles.qualifier == "approximately"
    five = by_text["five out of eight missiles"]
    assert (five.value, five.out_of, five.counted) == (5, 8, "missiles")
    days = by_text["nearly 1,000 days"]
    assert (days.value, days.counted, days.approximate) == (1000, "days", True)
    assert "eight missiles" not in by_text  # part of "five out of eight", not a second count


def test_tuesday_resolves_against_publication(seed: EnrichedArticle) -> None:
    tuesday = [t for t in seed.time_mentions if t.kind == "weekday"]
    assert [t.date for t in tuesday] == [dt.date(2024, 11, 19)]


def test_language_counts_and_tone(seed: EnrichedArticle) -> None:
    assert seed.language == "en" and seed.language_confidence > 0.9
    assert seed.sentence_count == len(seed.sentences) > 25
    assert seed.word_count > 600 and seed.reading_time_s == round(seed.word_count * 60 / 238)
    assert seed.tone is not None and -1 < seed.tone.score < 0
    assert seed.tone.tone < 0  # a war story reads negative
    assert any(s.polarity > 0 for s in seed.sentences) and any(
        s.polarity < 0 for s in seed.sentences
    )
    assert seed.key_phrases and len(seed.fingerprint) == 64
