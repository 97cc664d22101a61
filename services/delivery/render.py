"""What a person needs to know of one alert, once, for every channel that shows it to a person.

An alert is one story update (issue 16): each message (chat, e-mail, feed entry) is made from one
`Alert` through `AlertView`, so a chat message, an e-mail and an Atom entry say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from schemas import Alert, Match, StageTimes

EMOJI = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "⚪"}
COLOUR = {"critical": 0xB00020, "high": 0xE65100, "medium": 0xF9A825, "low": 0x9E9E9E}
EVIDENCE_MAX = 3  # sentences shown in long forms (e-mail, feed); chat shows the first


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut on a word boundary with an ellipsis when it had to be cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_~`|>#[]()"})


def markdown_literal(text: str) -> str:
    """Text that a Markdown renderer (Discord, Teams' Adaptive Cards) shows as it is: a title
    with `[x](https://…)` stays text, never a link (issue 27)."""
    return text.translate(_MARKDOWN)


# What a terminal acts on instead of showing: C0/C1 controls (ESC starts ANSI sequences that move
# the cursor, rewrite lines or set the window title) and the bidi overrides that reorder text.
_TERMINAL = {
    **{c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)},
    **{c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]},
}


def terminal_safe(text: str) -> str:
    """Article text for a terminal (`subscribe`, `tail`): every control and bidi character shown
    as its escape, so an article cannot recolour, move or hide what the operator reads."""
    return text.translate(_TERMINAL)


def stamp(dt: datetime) -> str:
    """A short, unambiguous time for people: `2025-03-02 14:05 UTC`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class AlertView:
    id: str
    severity: str
    previous_severity: str | None
    headline: str  # the article title
    what: str  # what happened: the rule's description
    where: str  # places, else country codes, else ""
    when: datetime  # publication time, else when the alert was made
    rules: tuple[str, ...]
    evidence: tuple[str, ...]  # distinct matched sentences, in order
    terms: tuple[str, ...]
    score: float
    story_id: str
    story_articles: int
    article_url: str | None
    dashboard_url: str

    @property
    def label(self) -> str:
        """`HIGH` or, for a story whose severity rose, `HIGH (was MEDIUM)`."""
        up = self.severity.upper()
        if self.previous_severity and self.previous_severity != self.severity:
            return f"{up} (was {self.previous_severity.upper()})"
        return up

    @property
    def emoji(self) -> str:
        return EMOJI.get(self.severity, "")

    @property
    def colour(self) -> int:
        return COLOUR.get(self.severity, 0x9E9E9E)


def _evidence(matches: list[Match]) -> tuple[list[str], list[str]]:
    sentences: list[str] = []
    terms: list[str] = []
    for m in matches:
        if m.sentence and m.sentence not in sentences:
            sentences.append(m.sentence)
        if m.term and m.term not in terms:
            terms.append(m.term)
    return sentences, terms


def safe_url(url: str) -> str:
    """The URL with every character that could end a link in some markup percent-encoded
    (`<>|"'()`, spaces), so no chat or mail format can be broken out of by a crafted URL."""
    return quote(url.strip(), safe=":/?#[]@!$&*+,;=%~-._")


def when_of(times: StageTimes) -> datetime:
    return times.published or times.alerted or times.tagged or times.ingested or datetime.now(UTC)


def card_url(dashboard: str, alert_id: str) -> str:
    """The dashboard page with this alert's card opened (`#alert=ID`)."""
    return f"{safe_url(dashboard.rstrip('/'))}/#alert={quote(alert_id, safe='')}"


def view(alert: Alert, dashboard: str, rules: Sequence[str] = ()) -> AlertView:
    """What a person reads of one story update; `rules`: every rule the update raised (the
    alert's own when empty), so one message stands for all of them."""
    sentences, terms = _evidence(alert.matches)
    where = clip(", ".join(alert.places) or ", ".join(alert.countries), 300)
    url = (
        safe_url(alert.url) if alert.url and alert.url.startswith(("http://", "https://")) else None
    )
    return AlertView(
        id=alert.id,
        severity=alert.severity,
        previous_severity=alert.previous_severity,
        headline=alert.title.strip() or "(untitled)",
        what=alert.rule_description.strip() or alert.rule_id,
        where=where,
        when=when_of(alert.times),
        rules=tuple(dict.fromkeys(rules)) or (alert.rule_id,),
        evidence=tuple(sentences[:EVIDENCE_MAX]),
        terms=tuple(terms),
        score=alert.score,
        story_id=alert.story_id,
        story_articles=alert.story_articles,
        article_url=url,
        dashboard_url=card_url(dashboard, alert.id),
    )


def sample_alert() -> Alert:
    """A realistic alert for `newswire subscriptions test` and the examples in the docs."""
    from schemas import Match

    sentence = (
        "A missile struck a fuel depot near Kharkiv early on Sunday, regional governor "
        'Oleh Syniehubov said, adding that "at least three people" were wounded.'
    )
    now = datetime.now(UTC).replace(microsecond=0)
    return Alert(
        id="sample-" + now.strftime("%Y%m%d%H%M%S"),
        rule_id="missile-strike",
        rule_description="Missile or drone strike on infrastructure",
        severity="high",
        previous_severity="medium",
        score=7.4,
        matches=[
            Match(term="missile", sentence=sentence, start=2, end=9),
            Match(term="struck", sentence=sentence, start=10, end=16),
        ],
        article_id="sample-article",
        story_id="sample-story",
        story_articles=3,
        title="Missile strike hits fuel depot near Kharkiv <test & sample>",
        url="https://example.org/news/kharkiv-depot",
        countries=["UA"],
        places=["Kharkiv"],
        times=StageTimes(published=now, alerted=now),
    )
