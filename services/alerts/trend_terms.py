"""What the alerts stage sends to the trend-terms topic: the terms of each story-opening article.

The alerts stage knows the stories (its story index), so it decides which article opens one, and
it describes the story in terms of every kind; the trends worker decides which kinds it counts
(services/trends/data/trends.yaml) and counts them (services/trends/).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from schemas import EventMention, StoryTerms, TaggedArticle
from services.alerts.core import Proposal, StoryState
from services.alerts.stories import signature_of

# An event's location, when the story index gives one (`event_location` on an event), is read by
# these attribute names, most specific first; `country` gives its ISO code.
AREA_FIELDS = ("admin_area", "region", "city", "locality")  # readable names, not codes


def trend_terms(tagged: TaggedArticle) -> list[str]:
    """Every kind of term of one article, each once, so one long article cannot make a trend
    alone. The escalation kinds come from the events: `place:` where each happened, `actors:`
    who did it to whom, `weapon:` the weapon systems named in an article with an event."""
    art = tagged.article
    terms = {f"topic:{t.id}" for t in tagged.topics}
    terms |= {f"event:{e.type}" for e in tagged.events}
    terms |= {f"country:{c}" for c in art.countries}
    terms |= {f"entity:{e.name}" for e in art.entities if e.type in ("person", "organisation")}
    for e in tagged.events:
        terms |= {f"place:{p}" for p in event_places(e, tagged)}
        if e.actor and e.target and e.actor != e.target:
            terms.add(f"actors:{e.actor}>{e.target}")
    if tagged.events:
        terms |= {f"weapon:{e.name}" for e in art.entities if e.type == "weapon"}
    return sorted(terms)


def event_places(event: EventMention, tagged: TaggedArticle) -> list[str]:
    """Where an event happened: `CC` (its country) and `CC/area` when its location names an admin
    area or city; nothing when no country can be told."""
    loc = getattr(event, "event_location", None) or getattr(event, "location", None)
    if loc is not None:
        country = _attr(loc, "country") or _attr(loc, "country_code")
        area = next((a for f in AREA_FIELDS if (a := _attr(loc, f)) and a != country), None)
        if area is None and _attr(loc, "kind") not in (None, "country"):
            area = _attr(loc, "name")  # an EventLocation: its city or region by name
        if country:
            return [country, f"{country}/{area}"] if area else [country]
    country = event_country(event, tagged)
    return [country] if country else []


def event_country(event: EventMention, tagged: TaggedArticle) -> str | None:
    """The country an event happened in, without its location: the target's when it is a
    country, else the country of a place named in the event's sentence, else the actor's when it
    is a country (an event with no target and no place is mostly at home), else the article's
    only country."""
    if _is_country(event.target):
        return event.target
    places = [e for e in tagged.article.entities if e.type == "place" and e.country]
    for e in places:
        if any(_names(e.name, e.aliases, event.sentence)):
            return e.country
    if _is_country(event.actor):
        return event.actor
    countries = tagged.article.countries
    return countries[0] if len(countries) == 1 else None


def _names(name: str, aliases: Iterable[str], sentence: str) -> Iterable[bool]:
    for n in (name, *aliases):
        yield bool(n) and n in sentence


def _is_country(code: str | None) -> bool:
    return code is not None and len(code) == 2 and code.isalpha() and code.isupper()


def _attr(obj: Any, name: str) -> str | None:
    value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return str(value) if value else None


def opens_story(tagged: TaggedArticle, stories: StoryState) -> bool:
    """True for the first article of a story (and a redelivery of it), false for later copies."""
    return stories.settle_now(Proposal(tagged, signature_of(tagged), [])).opens_story


def trend_records(tagged: TaggedArticle, stories: StoryState) -> list[StoryTerms]:
    """What the alerts stage sends to the terms topic for one article: its terms if it opened a
    story, else nothing (trends count stories, not copies)."""
    if not opens_story(tagged, stories):
        return []
    return [story_terms(tagged)]


def story_terms(tagged: TaggedArticle) -> StoryTerms:
    art = tagged.article
    return StoryTerms(
        article_id=art.id,
        url=art.url,
        terms=trend_terms(tagged),
        times=art.times,
        title=art.title[:300],
        events=sorted({e.type for e in tagged.events}),
        severity=tagged.severity,
        score=tagged.escalation_score,
    )
