"""Any document given as a rules file either loads or fails with located problems only."""

from __future__ import annotations

import re

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.rules import RuleError, parse_rules

KEYS = st.sampled_from(
    [
        "id",
        "description",
        "severity",
        "any",
        "all",
        "none",
        "near",
        "events",
        "countries",
        "min_score",
        "min_severity",
        "language",
        "channels",
        "bogus",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20),
    st.text(max_size=12),
    st.sampled_from(["high", "low", "missile-strike", "UA", "missile*", "... x"]),
)
VALUES = st.recursive(
    SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(KEYS, c, max_size=3), max_leaves=8
)
DOCS = st.one_of(
    VALUES,
    st.fixed_dictionaries(
        {"rules": st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=3)}
    ),
)
LOCATED = re.compile(r"^f\.yaml:\d+: \S.*: .+", re.S)


@settings(max_examples=80, deadline=None)
@given(DOCS)
def test_rules_load_or_fail_with_file_line_field(doc: object) -> None:
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        rules = parse_rules(text, "f.yaml")
    except RuleError as exc:
        assert exc.problems
        assert all(LOCATED.match(p) for p in exc.problems), exc.problems
    else:
        assert all(r.id for r in rules)


@given(st.text(max_size=80))
def test_any_text_loads_or_fails_located(text: str) -> None:
    try:
        parse_rules(text, "f.yaml")
    except RuleError as exc:
        assert all(LOCATED.match(p) for p in exc.problems), exc.problems
