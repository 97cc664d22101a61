"""The second detector (the sentence classifier) and the generalised triggers, through tag() and
evaluate(), on sentences written here."""

from __future__ import annotations

from schemas import TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.rules import load_rules, parse_rules
from services.common.settings import Settings
from services.offline.chain import Chain
from services.offline.quality import sentence_article


def _tagged(text: str) -> TaggedArticle:
    return Chain(rules=()).tagged(sentence_article(text))


RAIDS = (
    "Insurgent units staged simultaneous raids on the brigade headquarters and the police "
    "station downtown."
)


def test_a_sentence_no_trigger_explains_is_an_event_of_the_classifier_that_explains_itself() -> (
    None
):
    t = _tagged(RAIDS)
    clf = [e for e in t.events if e.detector == "classifier"]
    assert clf and all(e.detector == "classifier" for e in t.events)
    for e in clf:
        assert e.probability is not None and e.probability >= 0.8
        assert e.weights and e.weights[0].weight > 0  # the terms that drove it
        assert e.trigger.term.lower() in e.sentence.lower()


def test_classifier_events_are_judged_by_the_traps() -> None:
    t = _tagged("Militants do not need to attack the capital to spread fear, the analyst wrote.")
    assert not [e for e in t.events if e.detector == "classifier"]


def test_a_rule_can_switch_the_classifier_off_or_raise_its_threshold() -> None:
    t = _tagged(RAIDS)
    clf = [e for e in t.events if e.detector == "classifier"]
    assert clf
    base = "rules:\n  - {id: r, description: d, severity: medium, events: [%s]%s}\n"
    types = ", ".join(sorted({e.type for e in clf}))
    on = parse_rules(base % (types, ""), "on.yaml")
    off = parse_rules(base % (types, ", classifier: false"), "off.yaml")
    high = parse_rules(base % (types, ", min_probability: 0.9999"), "high.yaml")
    assert evaluate(t, on, StoryState())
    assert not evaluate(t, off, StoryState())
    assert not evaluate(t, high, StoryState())


def test_generic_armed_actors_and_the_neighbouring_sentence_satisfy_the_actor_requirement() -> None:
    rules = load_rules(Settings().rules_file)
    chain = Chain(rules)
    alone = chain.alone(
        sentence_article(
            "Maoist cadres stormed the camp of a road construction firm on Monday. "
            "They set fire to six trucks and an excavator."
        )
    )
    assert alone
    grenade = chain.alone(sentence_article("Assailants hurled a grenade at a police post."))
    assert {a.rule_id for a in grenade} & {"bombing", "armed-attack"}


def test_ordinary_cyber_crime_is_not_hybrid_warfare_but_a_state_hack_is() -> None:
    chain = Chain(load_rules(Settings().rules_file))
    crime = "A ransomware gang hacked a dental clinic and demanded a payment, police said."
    state = "State-backed hackers hacked the power grid's control systems, the ministry said."
    assert not chain.alone(sentence_article(crime))
    assert "sabotage-hybrid" in {a.rule_id for a in chain.alone(sentence_article(state))}
