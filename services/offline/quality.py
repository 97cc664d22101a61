"""`newswire eval`: how well the detector does, on text written here and on real text nobody here
wrote, through the same chain the workers run (services/offline/chain.py).

- hand-written fixtures (`tests/fixtures/labelled/`): precision, recall and F1 of "gets an alert",
  per event type, severity right, for English and per language;
- real text from `../shared/corpora` when it is there (skipped otherwise): the share of violent or
  military sentences that alert (SATP attack reports, IndiaPoliceEvents kill/force, MUC-4
  incidents, CAMEO material conflict), and the share of cooperation/neutral sentences and of
  sport, business and technology news that alert (false alerts).

Every real-text source is split in two halves by a stable hash of the document: `tune`, the half
one may read while changing the lexicon, and `report`, the half only ever reported. The corpora's
own `dev` splits are used (the classifier was trained on their `train` splits; the ConfliBERT test
splits are held back and never read).
"""

from __future__ import annotations

import csv
import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import SEVERITY_RANK, RawArticle, TaggedArticle
from services.common.settings import CORPORA, PROJECT_ROOT
from services.ingest.parse import from_mapping
from services.offline.chain import Chain
from services.offline.rates import Counts

LABELLED = PROJECT_ROOT / "tests" / "fixtures" / "labelled"
ENGLISH_SETS = ("articles.jsonl", "holdout.jsonl", "realtext.dev.jsonl", "realtext.test.jsonl")
I18N = LABELLED / "i18n"
VIOLENT_SOURCES = ("satp", "ipe-kill-force", "muc4-incident", "cameo-material-conflict")
NEUTRAL_SOURCES = ("cameo-coop-neutral",)
AG_CLASSES = {"2": "sports", "3": "business", "4": "sci/tech"}


@dataclass
class Judged:
    """One labelled text and what the chain made of it."""

    name: str
    expected: str  # a severity, or "none"
    kind: str
    got: str  # the highest alert severity, or "none"
    types: frozenset[str]  # event types of the article when it alerted
    language: str = "en"
    primary: str = "none"  # the event type its score stands on (the strongest), when it alerted
    held: tuple[str, ...] = ()  # the frame axes that set aside one of its candidate events


@dataclass
class PRF(Counts):
    severity_right: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self) -> str:
        sev = f", severity right {self.severity_right}/{self.tp}" if self.tp else ""
        return (
            f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f} "
            f"(tp {self.tp} fp {self.fp} fn {self.fn} tn {self.tn}{sev})"
        )


def primary_type(tagged: TaggedArticle) -> str:
    """The event type the article's score stands on (the strongest violent event)."""
    for c in tagged.score_components:
        if c.name == "event" and ":" in c.detail:
            return c.detail.split(":")[0]
    return "none"


def judge(chain: Chain, raw: RawArticle) -> tuple[str, frozenset[str], TaggedArticle]:
    """The article alone (no story state): its highest alert severity and its event types."""
    tagged = chain.tagged(raw)
    from services.alerts.core import StoryState, evaluate

    alerts = evaluate(tagged, chain.rules, StoryState(), chain.taxonomy)
    got = max((a.severity for a in alerts), key=SEVERITY_RANK.__getitem__, default="none")
    types = frozenset(e.type for e in tagged.events) if alerts else frozenset()
    return got, types, tagged


def read_labelled(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def judge_file(chain: Chain, path: Path) -> list[Judged]:
    out = []
    for obj in read_labelled(path):
        labels = {k: obj.pop(k) for k in ("expect", "kind", "actor", "target", "note") if k in obj}
        if "escalation" in obj:  # the multilingual fixtures' form
            esc = obj.pop("escalation")
            sev = obj.pop("severity", None)
            labels["expect"] = (sev or "medium") if esc else "none"
            labels["kind"] = obj.pop("event", None) or "trap"
        raw = from_mapping(_article_fields(obj))
        got, types, tagged = judge(chain, raw)
        out.append(
            Judged(
                raw.title,
                str(labels["expect"]),
                str(labels.get("kind", "")),
                got,
                types,
                tagged.article.language,
                primary_type(tagged) if got != "none" else "none",
                held_axes(tagged),
            )
        )
    return out


def held_axes(tagged: TaggedArticle) -> tuple[str, ...]:
    """Each frame axis that failed on a set-aside candidate, once per candidate."""
    return tuple(a for e in tagged.suppressed_events if e.frame is not None for a in e.frame.failed)


def by_axis(judged: Iterable[Judged]) -> dict[str, tuple[int, int, int]]:
    """Per frame axis: candidate events it set aside, and the articles without an alert it set
    one aside in, labelled no-alert (right) or an escalation (wrong)."""
    out: dict[str, list[int]] = {}
    for j in judged:
        for a in j.held:
            out.setdefault(a, [0, 0, 0])[0] += 1
        if j.got == "none":
            for a in set(j.held):
                out[a][1 if j.expected == "none" else 2] += 1
    return {a: (n, r, w) for a, (n, r, w) in sorted(out.items())}


def _article_fields(obj: dict[str, Any]) -> dict[str, Any]:
    if "title" in obj:
        return obj
    text = str(obj.pop("text"))
    head = text.split(". ")[0][:120]
    return {**obj, "title": head, "body": text}


def score(judged: Iterable[Judged]) -> PRF:
    m = PRF()
    for j in judged:
        outcome = m.count(j.expected != "none", j.got != "none")
        if outcome == "tp":
            m.severity_right += j.got == j.expected
        elif outcome == "fp":
            m.misses.append(f"false alert ({j.got}) [{j.kind}] {j.name}")
        elif outcome == "fn":
            m.misses.append(f"missed ({j.expected}) [{j.kind}] {j.name}")
    return m


def by_event_type(judged: Sequence[Judged], event_types: Iterable[str]) -> dict[str, PRF]:
    """Per event type, on the article's primary type (the strongest event, which its score and
    severity stand on): found when an article labelled with that kind alerted with it as its
    primary type; a false one when an article of another kind or a trap did."""
    out: dict[str, PRF] = {}
    for t in event_types:
        m = PRF()
        for j in judged:
            if j.kind == t:
                if j.primary == t:
                    m.tp += 1
                    m.severity_right += j.got == j.expected
                else:
                    m.fn += 1
            elif j.primary == t:
                m.fp += 1
            else:
                m.tn += 1
        if m.tp + m.fn + m.fp:
            out[t] = m
    return out


def confusion(judged: Sequence[Judged], event_types: Iterable[str]) -> Counter[tuple[str, str]]:
    """(labelled kind, primary type found) where they differ, for articles labelled with an event
    type (`none`: no alert)."""
    known = set(event_types)
    return Counter((j.kind, j.primary) for j in judged if j.kind in known and j.primary != j.kind)


# ---- real text -----------------------------------------------------------------------------
def half(group: str) -> str:
    """`tune` or `report`: a stable half of the documents (crc32 of the document id)."""
    return "tune" if zlib.crc32(group.encode()) % 2 == 0 else "report"


@dataclass
class Rate:
    n: int = 0
    alerts: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.alerts / self.n if self.n else 0.0

    def line(self) -> str:
        return f"{self.alerts}/{self.n} = {self.share:.3f}"


def sentence_article(text: str) -> RawArticle:
    """A sentence as an article whose title sets off nothing."""
    return from_mapping({"title": "Report", "body": text})


def real_sentences(root: Path, part: str, limit: int) -> dict[str, list[str]]:
    """Dev sentences of each labelled source, in the given half, at most `limit` each."""
    from services.offline.corpora import load_all

    out: dict[str, list[str]] = defaultdict(list)
    for e in load_all(root):
        if e.split != "dev" or e.source not in (*VIOLENT_SOURCES, *NEUTRAL_SOURCES, "bbc"):
            continue
        if half(e.group) != part or len(out[e.source]) >= limit:
            continue
        out[e.source].append(e.text)
    return out


def ag_items(root: Path, part: str, limit: int) -> dict[str, list[tuple[str, str]]]:
    """AG News test items (title, description) of sport, business and sci/tech."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    path = root / "ag-news-test" / "test.csv"
    with path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f)):
            if len(row) < 3 or row[0] not in AG_CLASSES or half(f"ag{i}") != part:
                continue
            if len(out[AG_CLASSES[row[0]]]) < limit:
                out[AG_CLASSES[row[0]]].append((row[1], row[2].replace("\\", " ")))
    return out


def real_text(
    chain: Chain,
    root: Path = CORPORA,
    part: str = "report",
    limit: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Rate]:
    rates: dict[str, Rate] = {}
    for source, texts in real_sentences(root, part, limit).items():
        r = rates[source] = Rate()
        for t in texts:
            got, _, _ = judge(chain, sentence_article(t))
            r.n += 1
            if got != "none":
                r.alerts += 1
                if len(r.examples) < 5 and source not in VIOLENT_SOURCES:
                    r.examples.append(t[:160])
            elif source in VIOLENT_SOURCES and len(r.examples) < 5:
                r.examples.append(t[:160])
        if progress:
            progress(source)
    for cls, items in ag_items(root, part, limit).items():
        r = rates[f"ag-{cls}"] = Rate()
        for title, desc in items:
            got, _, _ = judge(chain, from_mapping({"title": title, "body": desc or title}))
            r.n += 1
            if got != "none":
                r.alerts += 1
                if len(r.examples) < 5:
                    r.examples.append(title[:160])
        if progress:
            progress(cls)
    return rates


def english_files() -> list[Path]:
    return [LABELLED / n for n in ENGLISH_SETS if (LABELLED / n).exists()]


def i18n_files(split: str) -> list[Path]:
    return sorted(I18N.glob(f"*.{split}.jsonl"))
