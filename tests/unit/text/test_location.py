"""Where an event happened: the target's place, never the attacker's country (issue 36)."""

from __future__ import annotations

import pytest

from services.ingest.parse import from_mapping
from services.offline.chain import Chain


@pytest.fixture(scope="module")
def chain() -> Chain:
    return Chain.load()


def _locations(chain: Chain, text: str) -> list[tuple[str | None, str | None]]:
    tagged = chain.tagged(from_mapping({"title": "Report", "body": text}))
    assert tagged.events, text
    return [
        (e.location.country, e.location.precision) if e.location else (None, None)
        for e in tagged.events
    ]


def test_the_targets_city_not_the_attackers_country(chain: Chain) -> None:
    text = "Russian cruise missiles struck a power station in Vinnytsia overnight."
    assert set(_locations(chain, text)) == {("UA", "town")}


def test_an_unknown_place_is_unknown_not_the_attacker(chain: Chain) -> None:
    text = "Russian cruise missiles struck a power station in Zzyzxivka overnight."
    assert set(_locations(chain, text)) == {(None, None)}


def test_the_target_country_when_the_text_names_it(chain: Chain) -> None:
    text = "Russian drones struck a Ukrainian city overnight."
    assert set(_locations(chain, text)) == {("UA", "country")}
