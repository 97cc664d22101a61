"""The transliteration key space, the keyed towns and the ambiguity evidence (issue 36)."""

from __future__ import annotations

import pytest

from services.enrichment.gazetteer import find_entities
from services.enrichment.placekey import keyed, marked, name_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kryvyi Rih", "Kryvyy Rih"),  # yi / yy
        ("Vinnytsia", "Vinnytsya"),  # ia / ya, double letters
        ("Zaporizhzhia", "Zaporizhzhya"),
        ("Kharkiv", "Harkiv"),  # kh / h
        ("Kam'yans'ke", "Kamianske"),  # apostrophes
        ("Khan Younis", "Khān Yūnis"),  # diacritics, ou / u
        ("Ed Daein", "Al-Daein"),  # the Arabic article
        ("Yevpatoriia", "Jevpatorija"),  # j / y
    ],
)
def test_spellings_meet_in_key_space(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_keyed_text_maps_words_back_and_keeps_punctuation_apart() -> None:
    text = "Shelling hit Kryvyi Rih. Rih"
    ktext, starts, ends = keyed(text)
    key = marked("krivi rih")
    k = ktext.index(key)
    assert text[starts[k] : ends[k + len(key)]] == "Kryvyi Rih"
    assert marked("rih | rih") not in ktext  # a full stop is not a space: no name spans it
    assert ktext.endswith(marked("rih") + " | " + marked("rih"))


def _place(text: str) -> tuple[str, str | None, str | None]:
    (e,) = [e for e in find_entities(text) if e.type == "place" and e.kind == "city"]
    return e.name, e.ref, e.evidence


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("A missile struck an apartment block in Kryvyi Rih overnight.", "geonames:703845"),
        ("Russian cruise missiles struck a power station in Vinnytsia.", "geonames:689558"),
        ("Drones hit a substation near Chasiv Yar on Tuesday.", "geonames:710915"),
        ("RSF fighters attacked El Fasher.", "geonames:379555"),
    ],
)
def test_press_spellings_are_located(text: str, ref: str) -> None:
    assert _place(text)[1] == ref


def test_a_small_keyed_town_needs_a_locative() -> None:
    # Chasiv Yar, a town of 12,000, is only in towns.tsv: two capitalised words alone are no place
    assert not [e for e in find_entities("Chasiv Yar said so.") if e.type == "place"]
    assert _place("Shelling hit Chasiv Yar overnight.")[1] == "geonames:710915"


def test_a_shared_name_records_the_choice() -> None:
    _, ref, evidence = _place("A missile struck an apartment block in Tripoli overnight.")
    assert ref == "geonames:2210247"  # Tripoli, Libya: the largest
    assert evidence is not None and "places of this name" in evidence
    assert _place("Shelling hit Kryvyi Rih.")[2] is None
