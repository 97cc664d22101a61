"""The rule language: validation errors name file, line and field; every condition can fail."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from services.alerts.core import StoryState, evaluate
from services.alerts.rules import RULES_HELP, RuleError, load_rules, parse_rules
from services.offline.analyze import tagged_from

DEFAULT = Path(__file__).parents[3] / "services" / "alerts" / "data" / "rules.yaml"
NOW = "2026-11-20T08:00:00Z"


def fired(rules_yaml: str, body: str, title: str = "News") -> list[str]:
    rules = parse_rules(dedent(rules_yaml), "test.yaml")
    return [
        a.rule_id for a in evaluate(tagged_from(title, body, published=NOW), rules, StoryState())
    ]


def problems(rules_yaml: str) -> list[str]:
    with pytest.raises(RuleError) as err:
        parse_rules(dedent(rules_yaml), "bad.yaml")
    return err.value.problems


def test_default_rules_load() -> None:
    ids = [r.id for r in load_rules(DEFAULT)]
    assert {"missile-strike", "nuclear-threat"} <= set(ids)
    assert "rules check" in RULES_HELP


def test_error_names_file_line_and_field() -> None:
    [p] = problems(
        """\
        rules:
          - id: ok-rule
            description: fine
            severity: high
            any: [missile]
          - id: bad-rule
            description: wrong severity
            severity: extreme
            any: [missile]
        """
    )
    assert p.startswith("bad.yaml:8: rules[1] (id bad-rule).severity: ")
    assert "'low', 'medium', 'high' or 'critical'" in p


def test_every_problem_is_reported() -> None:
    ps = problems(
        """\
        rules:
          - id: a
            description: x
            severity: high
            events: [missile-strik]
          - id: a
            description: y
            severity: low
            regions: [atlantis]
            any: [missile]
        """
    )
    assert any(p.startswith("bad.yaml:5: rules[0] (id a).events[0]: unknown event") for p in ps)
    assert any(p.startswith("bad.yaml:6: rules[1] (id a).id: duplicate id") for p in ps)
    assert any(p.startswith("bad.yaml:9: rules[1] (id a).regions[0]: unknown region") for p in ps)


@pytest.mark.parametrize(
    ("body", "line", "field", "text"),
    [
        ("    colour: red\n", 5, "rules[0] (id r).colour", "Extra inputs"),
        ("    any: [missile ...]\n", 5, "rules[0] (id r).any", "bad phrase"),
        ("    countries: [ukraine]\n", 5, "rules[0] (id r).countries", "alpha-2"),
        (
            "    near: [{a: [x], b: [y], within: -1}]\n",
            5,
            "rules[0] (id r).near[0].within",
            "greater than or equal to 0",
        ),
        ("", 2, "rules[0] (id r)", "needs a positive condition"),
    ],
)
def test_field_problems(body: str, line: int, field: str, text: str) -> None:
    doc = "rules:\n  - id: r\n    description: d\n    severity: low\n" + body
    [p] = problems(doc)
    assert p.startswith(f"bad.yaml:{line}: {field}: ") and text in p


def test_yaml_syntax_error_has_a_line() -> None:
    [p] = problems("rules:\n  - id: r\n    any: [unclosed\n")
    assert p.startswith("bad.yaml:") and "not valid YAML" in p


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


RULE = """\
rules:
  - id: r
    description: d
    severity: medium
{extra}
"""


def rule(**conds: str) -> str:
    return RULE.format(extra="\n".join(f"    {k}: {v}" for k, v in conds.items()))


STRIKE = "Russian missiles hit Kharkiv in Ukraine overnight, officials said."


@pytest.mark.parametrize(
    ("conds", "body", "fires"),
    [
        ({"any": "[missile*]"}, STRIKE, True),
        ({"any": "[tank*]"}, STRIKE, False),
        ({"all": "[missile*, Kharkiv]"}, STRIKE, True),
        ({"all": "[missile*, Kyiv]"}, STRIKE, False),
        ({"any": "[missile*]", "none": "[Kharkiv]"}, STRIKE, False),
        ({"near": "[{a: [missile*], b: [Kharkiv], within: 2}]"}, STRIKE, True),
        ({"near": "[{a: [missile*], b: [officials], within: 2}]"}, STRIKE, False),
        ({"events": "[missile-strike]"}, STRIKE, True),
        ({"events": "[airstrike]"}, STRIKE, False),
        ({"events": "[missile-strike]", "actors": "[RU]", "targets": "[UA]"}, STRIKE, True),
        ({"events": "[missile-strike]", "actors": "[UA]"}, STRIKE, False),
        ({"any": "[missile*]", "countries": "[UA]"}, STRIKE, True),
        ({"any": "[missile*]", "countries": "[IL]"}, STRIKE, False),
        ({"any": "[missile*]", "regions": "[eastern-europe]"}, STRIKE, True),
        ({"any": "[missile*]", "regions": "[middle-east]"}, STRIKE, False),
        ({"any": "[missile*]", "entities": "[ukraine]"}, STRIKE, True),
        ({"any": "[missile*]", "entities": "[Israel]"}, STRIKE, False),
        ({"topics": "[air-missile-strikes]"}, STRIKE, True),
        ({"topics": "[maritime]"}, STRIKE, False),
        ({"min_score": "5"}, STRIKE, True),
        ({"min_score": "9.5"}, STRIKE, False),
        ({"min_severity": "high"}, STRIKE, True),
        ({"min_severity": "critical"}, STRIKE, False),
        ({"any": "[missile*]", "language": "[en]"}, STRIKE, True),
        ({"any": "[missile*]", "language": "[fr]"}, STRIKE, False),
        ({"any": "[missile*]"}, "No missiles were fired at the city.", False),
        ({"any": "[missile*]", "traps": "false"}, "No missiles were fired at the city.", True),
        ({"min_casualties": "20"}, "A bomb killed 30 people in the market.", True),
        ({"min_casualties": "20"}, "A bomb killed 3 people in the market.", False),
        ({"any": "[missile*]", "enabled": "false"}, STRIKE, False),
    ],
)
def test_each_condition(conds: dict[str, str], body: str, fires: bool) -> None:
    assert fired(rule(**conds), body) == (["r"] if fires else [])


def test_regions_can_be_defined_in_the_rules_file() -> None:
    doc = "regions:\n  home: [UA]\n" + rule(any="[missile*]", regions="[home]")
    assert fired(doc, STRIKE) == ["r"]


def test_alert_carries_matches_with_sentences_and_rule_channels() -> None:
    rules = parse_rules(rule(any="[missile*]", channels="[ops]"), "t.yaml")
    [a] = evaluate(tagged_from("News", STRIKE, published=NOW), rules, StoryState())
    assert a.channels == ["ops"]
    assert a.matches[0].term == "missiles" and a.matches[0].sentence == STRIKE
    assert a.severity == "high"  # the article's own severity raises the rule's medium
    assert a.score_components and a.events


def test_a_score_only_rule_shows_the_events_as_evidence() -> None:
    rules = parse_rules(rule(min_casualties="20"), "t.yaml")
    [a] = evaluate(
        tagged_from("Blast", "A car bomb killed 30 people in the market.", published=NOW),
        rules,
        StoryState(),
    )
    assert [m.term for m in a.matches] == ["car bomb"]
