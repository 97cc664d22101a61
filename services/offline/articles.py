"""Per-article figures on real text: a user gets alerts per article, so a long article that trips
on one of its 25 sentences is one false alert, not 1/25 of one (docs/quality.md).

- false-alert rates per article: BBC News dev articles, AG News sport / business / sci-tech /
  world items, Reuters-21578 stories (1987 business wire, dev files reut2-008 and -009);
- precision on a sample of AG News world items that alerted, labelled here by hand
  (`tests/fixtures/labelled/ag_world_alerts.tsv`: row number and label only, never the text;
  the labelling rules are in docs/quality.md).

Every source is split in two halves by a stable hash of the document (`quality.half`): `tune`
(the dev half one may read) and `report` (the test half, only reported). AG News rows hash
`ag<row>` (row number in test.csv, from 0), Reuters `reuters<NEWID>`, BBC `bbc<row>`.
"""

from __future__ import annotations

import csv
import html
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from schemas import SEVERITIES, RawArticle, TaggedArticle
from services.common.settings import PROJECT_ROOT
from services.ingest.parse import from_mapping
from services.offline.chain import Chain
from services.offline.quality import half, judge

AG_LABELS = PROJECT_ROOT / "tests" / "fixtures" / "labelled" / "ag_world_alerts.tsv"
AG_NAMES = {"1": "world", "2": "sports", "3": "business", "4": "sci/tech"}
HALVES = ("tune", "report")


@dataclass(frozen=True)
class Item:
    """One real article: where it comes from, its stable id and the half it belongs to."""

    source: str
    id: str
    raw: RawArticle

    @property
    def part(self) -> str:
        return half(self.id)


def ag_items(root: Path) -> Iterator[Item]:
    """AG News test items, each as an article (title, description); World too."""
    with (root / "ag-news-test" / "test.csv").open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f)):
            if len(row) < 3 or row[0] not in AG_NAMES:
                continue
            title, desc = html.unescape(row[1]), html.unescape(row[2].replace("\\", " "))
            raw = from_mapping({"title": title, "body": desc or title})
            yield Item(f"ag-{AG_NAMES[row[0]]}", f"ag{i}", raw)


def bbc_items(root: Path) -> Iterator[Item]:
    """BBC News dev articles, whole (lower-cased, no headline mark: the first words stand in)."""
    path = root / "conflibert-bbc-news" / "dev.tsv"
    with path.open(encoding="utf-8", newline="") as f:
        for i, line in enumerate(f):
            text = _sentence_case(line.rstrip("\r\n").split("\t")[0].strip())
            if text:
                head = " ".join(text.split()[:8])
                yield Item("bbc", f"bbc{i}", from_mapping({"title": head, "body": text}))


_AFTER_STOP = re.compile(r"(^|[.!?]\s+)([a-z])")


def _sentence_case(text: str) -> str:
    """The corpus is lower-cased: a capital after each full stop gives the sentence splitter its
    boundaries back (else a whole article is one sentence, and one cue in it judges all)."""
    return _AFTER_STOP.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _unwrap(body: str) -> str:
    """Reuters bodies are wrapped at 70 columns, paragraphs indented: lines joined, paragraphs
    kept (a line break ends a sentence for the splitter)."""
    return re.sub(r"\n(?! )", " ", body).replace("\n    ", "\n")


REUTERS_DEV = ("reut2-008.xml", "reut2-009.xml")
REUTERS_TRAIN = tuple(f"reut2-{i:03d}.xml" for i in range(8))


def reuters_items(root: Path, names: tuple[str, ...] = REUTERS_DEV) -> Iterator[Item]:
    """Reuters-21578 stories with a body, from the dev files (reut2-008, -009) unless `names`
    says otherwise (the genre model trains on the others), with their date."""
    for name in names:
        path = root / "reuters21578-xml" / name
        if not path.exists():
            continue
        for doc in ET.parse(path).getroot().iter("REUTERS"):
            title = (doc.findtext("TEXT/TITLE") or "").strip()
            body = (doc.findtext("TEXT/BODY") or "").strip()
            if not title or not body:
                continue
            obj = {"title": title.capitalize(), "body": _unwrap(body)}
            stamp = (doc.findtext("DATE") or "").strip().split(".")[0]
            if stamp:
                obj["published_at"] = _reuters_date(stamp)
            yield Item("reuters", f"reuters{doc.get('NEWID')}", from_mapping(obj))


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _reuters_date(stamp: str) -> str:
    """'24-MAR-1987 15:59:17' as ISO 8601 (UTC)."""
    day, mon, rest = stamp.split("-", 2)
    year, clock = rest.split(" ", 1)
    return f"{year}-{_MONTHS.index(mon.upper()) + 1:02d}-{int(day):02d}T{clock.strip()}+00:00"


def load_labels(path: Path = AG_LABELS) -> dict[str, tuple[int, str]]:
    """id -> (1 a current violent or military event, 0 not; the rule that decided), from the TSV."""
    out: dict[str, tuple[int, str]] = {}
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2 or cols[1] not in ("0", "1"):
            raise ValueError(f"{path}:{n}: expected 'ag<row>\\t0|1\\treason', got {line!r}")
        out[cols[0]] = (int(cols[1]), cols[2] if len(cols) > 2 else "")
    return out


@dataclass
class ArticleRate:
    """Articles of one source and half, and those that alerted (by highest severity)."""

    n: int = 0
    alerts: int = 0
    severities: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.alerts / self.n if self.n else 0.0

    def line(self) -> str:
        return f"{self.alerts}/{self.n} = {self.share:.3f}" if self.n else "-"


@dataclass
class Precision:
    """On the labelled AG world items of one half: alerts that are right, and the labelled true
    events no longer alerting (a frame that suppressed a real event)."""

    alerts: int = 0
    right: int = 0
    unlabelled: int = 0
    lost_true: int = 0
    dropped_false: int = 0
    wrong: list[str] = field(default_factory=list)

    def line(self) -> str:
        p = self.right / self.alerts if self.alerts else 0.0
        return (
            f"precision {self.right}/{self.alerts} = {p:.3f}; labelled true no longer alerting "
            f"{self.lost_true}, labelled false no longer alerting {self.dropped_false}; "
            f"alerts not labelled {self.unlabelled}"
        )


@dataclass
class ArticleReport:
    rates: dict[tuple[str, str], ArticleRate] = field(default_factory=dict)
    precision: dict[str, Precision] = field(default_factory=dict)
    # frame axis -> (articles it silenced, of them labelled not-an-event, labelled an event)
    axes: dict[str, list[int]] = field(default_factory=dict)


def items(root: Path) -> Iterator[Item]:
    yield from bbc_items(root)
    yield from ag_items(root)
    yield from reuters_items(root)


def _silenced_by(tagged: TaggedArticle) -> set[str]:
    """The frame axes that set aside a candidate event of this article."""
    return {a for e in tagged.suppressed_events if e.frame is not None for a in e.frame.failed}


def per_article(chain: Chain, root: Path, limit: int = 100_000) -> ArticleReport:
    """Every item judged alone: the share alerting per source and half, the precision on the
    labelled AG world items and, per frame axis, the labelled items it silenced."""
    labels = load_labels()
    rep = ArticleReport()
    for item in items(root):
        r = rep.rates.setdefault((item.source, item.part), ArticleRate())
        if r.n >= limit:
            continue
        got, _, tagged = judge(chain, item.raw)
        r.n += 1
        label = labels.get(item.id)
        if got != "none":
            r.alerts += 1
            r.severities[got] += 1
            if len(r.examples) < 8:
                r.examples.append(f"{item.id} {got}: {item.raw.title[:100]}")
        if item.source != "ag-world":
            continue
        p = rep.precision.setdefault(item.part, Precision())
        if got != "none":
            if label is None:
                p.unlabelled += 1
                continue
            p.alerts += 1
            if label[0] == 1:
                p.right += 1
            else:
                p.wrong.append(f"{item.id} {got} [{label[1]}]: {item.raw.title[:90]}")
        elif label is not None:
            p.lost_true += label[0] == 1
            p.dropped_false += label[0] == 0
            for axis in _silenced_by(tagged):
                a = rep.axes.setdefault(axis, [0, 0, 0])
                a[0] += 1
                a[1 + label[0]] += 1
    return rep


def severity_line(r: ArticleRate) -> str:
    return ", ".join(f"{s} {r.severities[s]}" for s in SEVERITIES)
