"""What the alerts stage sends to the trend-terms topic: the terms of each story-opening article.

The alerts stage knows the stories (its story index), so it decides which article opens one; the
trends worker only counts what arrives (services/trends/).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas import StoryTerms, TaggedArticle
from services.alerts.core import StoryState
from services.alerts.stories import article_time


def trend_terms(tagged: TaggedArticle) -> list[str]:
    """What is counted per article: each term once, so one long article cannot make a trend alone."""
    art = tagged.article
    terms = {f"topic:{t.id}" for t in tagged.topics}
    terms |= {f"event:{e}" for e in _event_types(tagged)}
    terms |= {f"country:{c}" for c in art.countries}
    terms |= {
        f"entity:{e.name}" for e in art.entities if e.type in ("person", "organisation", "weapon")
    }
    return sorted(terms)


def _event_types(tagged: TaggedArticle) -> list[str]:
    events: Sequence[Any] = getattr(tagged, "events", None) or []
    out = []
    for e in events:
        name = (
            getattr(e, "type", None)
            or getattr(e, "event_type", None)
            or (e if isinstance(e, str) else None)
        )
        if name:
            out.append(str(name))
    return out


def opens_story(tagged: TaggedArticle, stories: StoryState) -> bool:
    """True for the first article of a story (and a redelivery of it), false for later copies."""
    now = article_time(tagged)
    stories.prune(now)
    story, _ = stories.assign(tagged, now)
    return story.id == tagged.article.id


def trend_records(tagged: TaggedArticle, stories: StoryState) -> list[StoryTerms]:
    """What the alerts stage sends to the terms topic for one article: its terms if it opened a
    story, else nothing (trends count stories, not copies)."""
    if not opens_story(tagged, stories):
        return []
    return [story_terms(tagged)]


def story_terms(tagged: TaggedArticle) -> StoryTerms:
    art = tagged.article
    return StoryTerms(article_id=art.id, url=art.url, terms=trend_terms(tagged), times=art.times)
