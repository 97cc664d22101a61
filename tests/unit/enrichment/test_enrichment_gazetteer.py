"""Matching rules of the gazetteer and the integrity of its data files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from schemas import Entity
from services.enrichment import gazetteer
from services.enrichment.gazetteer import DATA, find_entities, load
from services.text.clean import ascii_fold as fold


def _places(text: str) -> dict[str, Entity]:
    return {e.name: e for e in find_entities(text) if e.type == "place"}


def test_automaton_is_built_once() -> None:
    assert load() is load()
    assert load().size > 35_000


@pytest.mark.parametrize(
    "text",
    [
        "The sum of losses was large.",
        "An Odessan poet and a Sumyan choir.",
        "Officials said the offer of aid was nice, a mobile split of resources.",
        "NICE guidance and OF course.",
    ],
)
def test_no_places_inside_words_or_in_lower_case(text: str) -> None:
    assert _places(text) == {}


def test_word_like_city_names_need_place_context() -> None:
    assert "Split" not in _places("Split decisions angered fans.")
    assert _places("Ferries left Split, Croatia, on time.")["Split"].country == "HR"
    assert _places("The port of Mobile reopened.")["Mobile"].country == "US"


def test_demonyms_map_to_countries() -> None:
    places = _places("Russian troops and North Korean reinforcements moved west.")
    assert places["Russia"].aliases == ["Russian"]
    assert places["North Korea"].aliases == ["North Korean"]
    assert "South Korea" not in places


@pytest.mark.parametrize(
    ("text", "name", "country", "admin1"),
    [
        ("Protests in Moscow grew.", "Moscow", "RU", "48"),
        ("Moscow, Idaho, a college town, voted.", "Moscow", "US", "ID"),
        ("Flights from Atlanta to Georgia's coast.", "Georgia", "US", "GA"),
        ("Flights from Tbilisi across Georgia.", "Georgia", "GE", None),
        ("A rally in Paris drew crowds.", "Paris", "FR", "11"),
        ("Storms hit Paris, Texas overnight.", "Paris", "US", "TX"),
    ],
)
def test_ambiguity_is_resolved_by_context_and_population(
    text: str, name: str, country: str, admin1: str | None
) -> None:
    e = _places(text)[name]
    assert (e.country, e.admin1) == (country, admin1)


def test_a_place_name_after_a_given_name_or_title_is_a_person() -> None:
    ents = find_entities(
        "Jordan Peterson met Mr. Washington. President Lincoln spoke in Lincoln, Nebraska."
    )
    people = {e.name for e in ents if e.type == "person"}
    assert {"Jordan Peterson", "Mr. Washington", "President Lincoln"} <= people
    places = {e.name for e in ents if e.type == "place"}
    assert "Washington" not in places and "Jordan" not in places and "Lincoln" in places


def test_listed_entity_beats_the_place_with_the_same_words() -> None:
    ents = {(e.type, e.name) for e in find_entities("Paris Hilton and Michael Jordan arrived.")}
    assert ents == {("person", "Paris Hilton"), ("person", "Michael Jordan")}


def test_aliases_group_into_one_entity() -> None:
    (z,) = find_entities("Zelensky met Zelenskyy's aides; Volodymyr Zelenskiy left.")
    assert z.name == "Volodymyr Zelenskyy" and z.mentions == 3
    assert z.aliases == ["Volodymyr Zelenskiy", "Zelensky", "Zelenskyy"]


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t" if name.endswith(".tsv") else ","))


@pytest.mark.parametrize("name", ["people.csv", "organisations.csv", "weapons.csv"])
def test_listed_files_have_names_and_valid_countries(name: str) -> None:
    codes = {r["code"] for r in _csv("countries.csv")}
    rows = _csv(name)
    assert len({r["name"] for r in rows}) == len(rows), "duplicate canonical names"
    for r in rows:
        assert r["name"] and r["aliases"], r
        assert not r["country"] or r["country"] in codes, r


def test_every_place_alias_points_at_a_shipped_city() -> None:
    cities = {(n, r["country"]) for r in _csv("cities.tsv") for n in (r["name"], fold(r["name"]))}
    missing = [r for r in _csv("place_aliases.csv") if (r["name"], r["country"]) not in cities]
    assert missing == []


def test_countries_have_coordinates_and_iso_codes() -> None:
    rows = _csv("countries.csv")
    assert len(rows) > 240
    for r in rows:
        assert len(r["code"]) == 2 and r["code"].isupper()
        assert -90 <= float(r["lat"]) <= 90 and -180 <= float(r["lon"]) <= 180


def test_data_folder_is_the_module_data_folder() -> None:
    assert Path(gazetteer.__file__).parent / "data" == DATA


@pytest.mark.parametrize(
    "text",
    [
        "Shares of Columbia Gas System Inc rose.",
        "National Westminster Bank Plc cut its rate.",
        "The deal was led by Kidder, Peabody and Co Inc.",
        "Prices rose in March and fell in May.",
        "It sold loans to Bank of America.",
        "Analysts at Morgan Stanley said so.",
    ],
)
def test_towns_inside_names_and_months_are_not_places(text: str) -> None:
    assert [e.name for e in find_entities(text) if e.type == "place" and e.kind == "city"] == []


def test_the_surname_of_someone_named_in_full_is_that_person() -> None:
    ents = find_entities(
        "Chancellor of the Exchequer Nigel Lawson spoke. Lawson said rates would fall."
    )
    (p,) = [e for e in ents if e.type == "person"]
    assert (p.name, p.mentions, p.aliases) == ("Nigel Lawson", 2, ["Lawson", "Nigel Lawson"])
    assert not [e for e in ents if e.type == "place"]


def test_regions_are_places_without_a_country() -> None:
    places = _places("Tensions in the Middle East and the Black Sea worry Europe.")
    assert {"Middle East", "Black Sea", "Europe"} <= set(places)
    assert all(
        places[n].country is None and places[n].kind == "region" for n in ("Middle East", "Europe")
    )


def test_titles_before_firms_do_not_make_people() -> None:
    assert [
        e for e in find_entities("General Motors Corp said sales fell.") if e.type == "person"
    ] == []


def test_titled_names_are_found_where_the_regex_finds_them() -> None:
    """The automaton only says where to try `_TITLED_NAME`: the matches are the regex's own."""
    from services.enrichment.gazetteer import _TITLED_NAME, _titled_matches, scan

    text = (
        "Prime Minister Keir Starmer met Mr. John Smith and Mrs Jane Doe. The spokesman Ali Khan "
        "and Chief Adviser Omar Hadi spoke; xMr Foo Bar did not. Gov. Kathy Hochul, Sen. Ted "
        "Cruz, Gen. Mark Milley and envoy Steve Witkoff. Dr Who. Mayor Ihor Terekhov and "
        "Secretary-General Antonio Guterres. President Emmanuel Macron Jr spoke to Judge "
        "Judy Sheindlin and Commander Valerii Zaluzhnyi, Leader Kim Jong Un, advisor Jake Sullivan."
    )
    want = [(m.start(), m.end()) for m in _TITLED_NAME.finditer(text)]
    assert len(want) > 10
    starts = scan(text).titles
    assert [(m.start(), m.end()) for m in _titled_matches(text, starts)] == want


def test_the_frequent_characters_change_no_match() -> None:
    """The automaton's extra keys (c + NUL) only order its root: the names found are those of
    a plain automaton of the same keys."""
    import ahocorasick

    from tests.unit.enrichment.conftest import SEED

    g = load()
    plain = ahocorasick.Automaton()
    for i, (s, _) in enumerate(g.surfaces):
        plain.add_word(s, i)
    plain.make_automaton()
    text = (
        SEED.read_text(encoding="utf-8") + " Mayor Ihor Terekhov in Kharkiv;\0 Paris\0 e\0"
    ).replace("Kyiv", "Kyiv\0")
    want = sorted((end, i) for end, i in plain.iter(text))
    got = sorted((end, v[1]) for end, v in g.automaton.iter(text) if v is not None and v[1] >= 0)
    assert len(want) > 20 and got == want


def test_native_place_names_become_places_with_country_and_coordinates() -> None:
    from services.enrichment.core import enrich
    from services.ingest.parse import from_mapping

    for title, body, city in [
        ("Удар по Киеву", "Ночью ракеты попали в жилой дом в Киеве.", "Kyiv"),
        ("غارة على بيروت", "قصفت طائرات حربية الضاحية الجنوبية لبيروت فجر اليوم.", "Beirut"),
        ("Angriff auf Charkiw", "Russische Raketen trafen in der Nacht Charkiw.", "Kharkiv"),
    ]:
        e = enrich(from_mapping({"title": title, "body": body}))
        places = {x.name: x for x in e.entities if x.type == "place"}
        assert city in places, (e.language, places)
        assert places[city].lat is not None and places[city].country in e.countries
