"""The fault harness's own articles: if one of them cannot raise its alert, "lost" means nothing."""

from __future__ import annotations

from services.alerts.core import StoryState, evaluate
from services.alerts.rules import load_rules
from services.common.settings import Settings
from services.enrichment.core import enrich
from services.tagging.core import tag
from services.text.taxonomy import load_taxonomy
from tests.fault.harness import RULE, RULES, articles


def test_every_fault_article_is_its_own_story_with_exactly_one_alert() -> None:
    rules = load_rules(RULES)
    taxonomy = load_taxonomy(Settings(_env_file=None).taxonomy_file)  # type: ignore[call-arg]
    state = StoryState()
    sample = articles("t0", 2000)[::7]  # every 7th of the full size: 1800-1999 once read as years
    found = [
        sum(a.rule_id == RULE for a in evaluate(tag(enrich(art)), rules, state, taxonomy))
        for art in sample
    ]
    assert found == [1] * len(sample)
