"""Pure alerting: `evaluate(tagged, rules) -> list[Alert]`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from schemas import Alert, Match, StageTimes, TaggedArticle
from schemas.base import utcnow
from schemas.ids import alert_id
from services.alerts.rules import Rule

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _sentence_at(text: str, start: int) -> str:
    for m in _SENTENCE.finditer(text):
        if m.start() <= start < m.end():
            return m.group(0).strip()
    return ""


def evaluate(tagged: TaggedArticle, rules: Sequence[Rule]) -> list[Alert]:
    art = tagged.article
    text = f"{art.title}\n{art.body}"
    alerts: list[Alert] = []
    for rule in rules:
        if rule.none_re is not None and rule.none_re.search(text):
            continue
        if not all(p.search(text) for p in rule.all_res):
            continue
        hits = list(rule.any_re.finditer(text)) if rule.any_re is not None else []
        if rule.any_re is not None and not hits:
            continue
        hits += [m for p in rule.all_res if (m := p.search(text))]
        if not hits:
            continue
        story_id = art.id
        alerts.append(
            Alert(
                id=alert_id(story_id, rule.spec.id),
                rule_id=rule.spec.id,
                rule_description=rule.spec.description,
                severity=rule.spec.severity,
                score=tagged.escalation_score,
                matches=[
                    Match(
                        term=m.group(0),
                        sentence=_sentence_at(text, m.start()),
                        start=m.start(),
                        end=m.end(),
                    )
                    for m in hits[:20]
                ],
                article_id=art.id,
                story_id=story_id,
                title=art.title,
                url=art.url,
                countries=art.countries,
                entities=[e.name for e in art.entities if e.type != "other"][:50],
                times=StageTimes(**{**art.times.model_dump(), "alerted": utcnow()}),
            )
        )
    return alerts
