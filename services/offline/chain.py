"""The pipeline's three pure steps in one process: enrich -> tag -> evaluate, without a broker.

`newswire analyze`, `rules backtest`, the evaluation and the benches all run this one chain, so
what they report is what the workers do. `*_bytes` take and give the records' JSON, as each worker
does with its input and output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from schemas import Alert, EnrichedArticle, RawArticle, TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.rules import Rule, load_rules
from services.common.settings import Settings
from services.enrichment.core import enrich, warm_up
from services.tagging.core import tag
from services.text.taxonomy import Taxonomy, load_taxonomy


@dataclass
class Chain:
    rules: Sequence[Rule]
    taxonomy: Taxonomy | None = None
    state: StoryState = field(default_factory=StoryState)

    @classmethod
    def load(cls, settings: Settings | None = None, rules: Sequence[Rule] | None = None) -> Chain:
        """The rules and taxonomy the settings name, and the enrichment models loaded now rather
        than on the first article."""
        s = settings or Settings()
        warm_up()
        return cls(
            rules=rules if rules is not None else load_rules(s.rules_file),
            taxonomy=load_taxonomy(s.taxonomy_file),
        )

    def tagged(self, raw: RawArticle) -> TaggedArticle:
        return tag(enrich(raw), self.taxonomy)

    def run(self, raw: RawArticle) -> tuple[TaggedArticle, list[Alert]]:
        """One article through the three steps; stories carry over to the next article."""
        tagged = self.tagged(raw)
        return tagged, self.evaluate(tagged)

    def evaluate(self, tagged: TaggedArticle) -> list[Alert]:
        return evaluate(tagged, self.rules, self.state, self.taxonomy)

    def alone(self, raw: RawArticle) -> list[Alert]:
        """The article's alerts judged on its own (no story state): for evaluation."""
        return evaluate(self.tagged(raw), self.rules, StoryState(), self.taxonomy)

    def enrich_bytes(self, raw: bytes) -> bytes:
        return enrich(RawArticle.model_validate_json(raw)).model_dump_json().encode()

    def tag_bytes(self, enriched: bytes) -> bytes:
        article = EnrichedArticle.model_validate_json(enriched)
        return tag(article, self.taxonomy).model_dump_json().encode()

    def alerts_bytes(self, tagged: bytes) -> list[bytes]:
        alerts = self.evaluate(TaggedArticle.model_validate_json(tagged))
        return [a.model_dump_json().encode() for a in alerts]
