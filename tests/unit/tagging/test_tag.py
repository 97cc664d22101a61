"""`tag()`: topics with evidence, events with actor → target, the explained score, and the traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import TaggedArticle
from services.enrichment.core import enrich
from services.ingest.parse import from_text
from services.offline.analyze import tagged_from
from services.tagging.core import tag
from services.text.taxonomy import load_taxonomy, severity_for

SEED = sorted((Path(__file__).parents[3] / "seeds").glob("*.txt"))[0]
NOW = "2026-11-20T08:00:00Z"


def violent(t: TaggedArticle) -> list[str]:
    weights = {e.id: e.weight for e in load_taxonomy().events}
    return [e.type for e in t.events if weights[e.type] > 0]


def test_seed_article_has_missile_strike_and_nuclear_threat() -> None:
    t = tag(enrich(from_text(SEED.read_text(encoding="utf-8"))))
    types = {e.type for e in t.events}
    assert {"missile-strike", "nuclear-threat", "drone-attack"} <= types
    threat = next(e for e in t.events if e.type == "nuclear-threat")
    assert "doctrine" in threat.trigger.term and "Peskov" in threat.sentence
    strike = next(e for e in t.events if e.type == "missile-strike")
    assert (strike.actor, strike.target) == ("UA", "RU")
    assert t.severity == "critical"


def test_issue_example_actor_target() -> None:
    t = tagged_from(
        "Overnight", "Ukraine struck Russian ammunition depots with missiles.", published=NOW
    )
    [e] = t.events
    assert (e.type, e.actor, e.target) == ("missile-strike", "UA", "RU")


def test_passive_voice_names_the_actor_after_by() -> None:
    t = tagged_from("Kyiv", "Ukraine was hit by Russian drone strikes overnight.", published=NOW)
    e = next(e for e in t.events if e.type == "drone-attack")
    assert (e.actor, e.target) == ("RU", "UA")


def test_topic_evidence_points_into_the_text() -> None:
    t = tagged_from(
        "Shelling", "Artillery shelling hit the town and civilians fled.", published=NOW
    )
    text = t.article.text
    ids = {tp.id for tp in t.topics}
    assert {"ground-combat", "civilian-harm"} <= ids
    for tp in t.topics:
        for ev in tp.evidence:
            assert text[ev.start : ev.end] == ev.term


def test_score_is_the_sum_of_its_components() -> None:
    t = tagged_from(
        "Strike",
        "Russia fired ballistic missiles at Ukraine, killing 25 civilians, officials said.",
        published=NOW,
    )
    names = {c.name for c in t.score_components}
    assert {"event", "casualties", "weapon", "state_actor", "cross_border"} <= names
    assert t.escalation_score == pytest.approx(min(10, sum(c.points for c in t.score_components)))
    assert t.casualties == 25
    assert t.severity == severity_for(t.escalation_score, load_taxonomy())


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("A car bomb killed at least 40 people.", 40),
        ("Dozens of soldiers were reported killed in the attack.", 24),
        ("The blast wounded three people.", 3),
        ("Some people were wounded.", 0),
    ],
)
def test_casualty_counts(body: str, count: int) -> None:
    assert tagged_from("Blast", body, published=NOW).casualties == count


def test_severity_thresholds() -> None:
    tax = load_taxonomy()
    assert [severity_for(x, tax) for x in (0, 3.0, 5.5, 8.5, 10)] == [
        "low",
        "medium",
        "high",
        "critical",
        "critical",
    ]


def test_cooperation_scores_zero() -> None:
    t = tagged_from(
        "Talks", "Both sides agreed to a ceasefire at peace talks in Cairo.", published=NOW
    )
    assert {e.type for e in t.events} >= {"ceasefire", "peace-talks"}
    assert t.escalation_score == 0 and t.severity == "low"


# every trap of the issue: (text, expected reason)
TRAPS = [
    (
        "The army denied targeting civilians and said it carried out no strikes on the city.",
        "negated",
    ),
    ("There were no casualties and no missile strikes, officials said.", "negated"),
    ("Officials said they did not launch drones at the tanker.", "negated"),
    ("If talks fail, artillery shelling could resume within weeks.", "hypothetical"),
    ("A war game simulated a missile strike on the base.", "hypothetical"),
    (
        "Historians recalled the 1962 Cuban missile crisis and the fear of nuclear war.",
        "historical",
    ),
    ("In 1991 airstrikes hit Baghdad and Scud missiles were fired.", "historical"),
    ("The striker scored with a missile of a shot in the cup match.", "metaphor"),
    ("The film bombed at the box office.", "metaphor"),
    ("Dock workers strike for a second day over pay.", "metaphor"),
    ("The grandmaster's attack in chess forced checkmate.", "metaphor"),
    ("The company's shares rocketed and a price war erupted in the market.", "metaphor"),
    ("Poland approved its first nuclear power plant.", "peaceful"),
    ("Delivery drones began carrying parcels to villages.", "peaceful"),
    ("A rocket launch put two weather satellites into orbit.", "peaceful"),
    (
        "The agency fired the first of six rockets to place a weather satellite in orbit.",
        "peaceful",
    ),
]


@pytest.mark.parametrize(("body", "reason"), TRAPS)
def test_traps_remove_escalation_and_say_why(body: str, reason: str) -> None:
    t = tagged_from("News", body, published=NOW)
    assert violent(t) == []
    assert "nuclear" not in {tp.id for tp in t.topics}
    assert reason in {s.reason for s in t.suppressed}


def test_a_trap_in_one_clause_leaves_the_other() -> None:
    t = tagged_from(
        "Strikes",
        "Russia denied the report, but Ukraine said Russian missiles hit Kharkiv overnight.",
        published=NOW,
    )
    assert "missile-strike" in violent(t)


def test_nuclear_threat_is_not_hypothetical_for_its_modal_verb() -> None:
    t = tagged_from(
        "Warning",
        "The Kremlin said Western missiles could change its nuclear doctrine.",
        published=NOW,
    )
    assert "nuclear-threat" in violent(t)


def test_strike_on_a_nuclear_power_plant_is_still_an_attack() -> None:
    t = tagged_from(
        "Plant",
        "Russian forces shelled the Zaporizhzhia nuclear power plant on Monday.",
        published=NOW,
    )
    assert violent(t) == ["shelling"]
    assert "nuclear-threat" not in {e.type for e in t.events}


def test_old_year_is_historical_only_relative_to_the_article() -> None:
    body = "In 2019 airstrikes hit the city."
    assert violent(tagged_from("Then", body, published=NOW)) == []
    assert violent(tagged_from("Then", body, published="2019-06-01T00:00:00Z")) == ["airstrike"]


def test_may_the_month_is_not_a_hypothetical() -> None:
    t = tagged_from(
        "Raid", "On 3 May Russian airstrikes hit Kharkiv.", published="2026-05-04T08:00:00Z"
    )
    assert violent(t) == ["airstrike"]


def test_a_date_weeks_before_publication_is_history_kept_as_suppressed() -> None:
    t = tagged_from(
        "Raid", "On 3 May Russian airstrikes hit Kharkiv.", published="2026-07-20T08:00:00Z"
    )
    assert violent(t) == []
    held = [e for e in t.suppressed_events if e.type == "airstrike"]
    assert held and held[0].frame is not None
    assert held[0].frame.failed == ["current"]
    assert held[0].frame.current.cue == "3 May"


def test_fingerprint_is_set_and_stable() -> None:
    a = tagged_from("Title", "Same body text here for both.", published=NOW)
    b = tagged_from("Title", "Same body text here for both.", url="https://x.org/a", published=NOW)
    assert a.article.fingerprint and a.article.fingerprint == b.article.fingerprint
    # the SimHash is only the fallback for an article that arrives without enrichment's MinHash
    assert a.fingerprint == b.fingerprint == ""
    bare = [t.article.model_copy(update={"fingerprint": []}) for t in (a, b)]
    c, d = (tag(x) for x in bare)
    assert c.fingerprint == d.fingerprint and len(c.fingerprint) == 16


def test_a_missile_test_is_a_weapons_test_not_a_strike() -> None:
    t = tagged_from(
        "Test", "Iran test-fired a Silkworm missile in the Strait of Hormuz.", published=NOW
    )
    assert violent(t) == ["weapons-deployment"]


@pytest.mark.parametrize(
    "body",
    [
        "Russian missiles hit a museum in Kharkiv on Monday.",
        "A drone attack hit an oil company's depot in Russia.",
        "Russian missiles struck Kyiv, leaving no power in the east of the city.",
    ],
)
def test_words_near_a_trap_do_not_hide_a_real_attack(body: str) -> None:
    assert violent(tagged_from("News", body, published=NOW))


def test_an_article_in_a_language_with_a_native_lexicon_is_tagged_natively() -> None:
    from schemas import RawArticle
    from services.enrichment.core import enrich
    from services.tagging.core import tag as tag_article

    raw = RawArticle(  # type: ignore[call-arg]
        title="Raketenangriff auf Kiew",
        body="Russland hat in der Nacht Kiew mit Raketen und Drohnen angegriffen; drei Menschen "
        "wurden getötet. Die Regierung sprach von einem schweren Angriff auf die Hauptstadt.",
    )
    enriched = enrich(raw)
    assert enriched.language == "de" and "UA" in enriched.countries  # Kiew -> Kyiv, UA
    tagged = tag_article(enriched)
    assert "missile-strike" in {e.type for e in tagged.events}
    assert tagged.events[0].sentence == "Raketenangriff auf Kiew"  # evidence in German
    assert tagged.casualties == 3 and tagged.severity in ("medium", "high")
    assert tagged.article.times.tagged is not None


def test_an_article_in_a_language_without_a_lexicon_flows_through_untagged() -> None:
    from schemas import RawArticle
    from services.enrichment.core import enrich
    from services.tagging.core import tag as tag_article

    raw = RawArticle(  # type: ignore[call-arg]
        title="Attacco missilistico su Kiev",
        body="La Russia ha colpito Kiev con missili e droni durante la notte; tre persone sono "
        "state uccise. Il governo ha parlato di un grave attacco contro la capitale.",
    )
    enriched = enrich(raw)
    assert enriched.language == "it"
    tagged = tag_article(enriched)
    assert tagged.topics == [] and tagged.events == []
    assert tagged.escalation_score == 0.0
    assert tagged.article.times.tagged is not None
