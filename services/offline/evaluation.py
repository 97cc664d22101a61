"""Quality of "article gets an alert": on our labelled set, and on ConfliBERT's CAMEO sentences.

`python -m services.offline.evaluation [--ag] [CAMEO_TSV]` prints both (and, with --ag, the share
of AG News items with an alert per class); the labelled-set test asserts the
targets, the CAMEO figures are a check on real text nobody here wrote.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from schemas import SEVERITIES, SEVERITY_RANK, RawArticle
from services.alerts.rules import Rule, load_rules
from services.common.settings import CORPORA, PROJECT_ROOT
from services.ingest.parse import from_mapping
from services.offline.chain import Chain
from services.offline.rates import Counts
from services.text.taxonomy import load_taxonomy

LABELLED = PROJECT_ROOT / "tests" / "fixtures" / "labelled" / "articles.jsonl"
HOLDOUT = LABELLED.with_name("holdout.jsonl")
CAMEO = CORPORA / "conflibert-cameo-quadclass"
AG_NEWS = CORPORA / "ag-news-test" / "test.csv"
AG_CLASSES = {"1": "World", "2": "Sports", "3": "Business", "4": "Sci/Tech"}
RULES = PROJECT_ROOT / "services" / "alerts" / "data" / "rules.yaml"


@dataclass
class Outcome:
    name: str
    expected: str  # "none" or a severity
    got: str  # "none" or the highest alert severity
    kind: str = ""


@dataclass
class Metrics(Counts):
    right_severity: int = 0
    errors: list[Outcome] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def severity_share(self) -> float:
        """Of the articles that should alert and did, the share at the expected severity."""
        return self.right_severity / self.tp if self.tp else 1.0

    def line(self, severity: bool = True) -> str:
        sev = f"right severity {self.severity_share:.3f}  " if severity else ""
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  {sev}"
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})"
        )


def score(outcomes: Iterable[Outcome]) -> Metrics:
    m = Metrics()
    for o in outcomes:
        outcome = m.count(o.expected != "none", o.got != "none")
        if outcome == "tp":
            m.right_severity += o.expected == o.got
            if o.expected != o.got:
                m.by_kind[f"severity {o.expected}->{o.got}"] += 1
        elif outcome in ("fp", "fn"):
            m.errors.append(o)
    return m


def top_severity(raw: RawArticle, rules: Sequence[Rule]) -> str:
    """The highest alert severity for one article judged alone (fresh story state), or 'none'."""
    alerts = Chain(rules).alone(raw)
    return max((a.severity for a in alerts), key=SEVERITY_RANK.__getitem__, default="none")


def labelled_outcomes(path: Path = LABELLED, rules: Sequence[Rule] | None = None) -> list[Outcome]:
    rs = rules if rules is not None else load_rules(RULES)
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        labels = {k: obj.pop(k) for k in ("expect", "kind", "actor", "target") if k in obj}
        raw = from_mapping(obj)
        out.append(Outcome(raw.title, labels["expect"], top_severity(raw, rs), labels["kind"]))
    return out


def actor_target_share(path: Path = LABELLED) -> tuple[int, int, list[str]]:
    """Of the labelled articles with an `actor` (and `target`), how many have a violent event
    carrying exactly that pair; returns (right, labelled, titles of the misses)."""
    weights = {e.id: e.weight for e in load_taxonomy().events}
    right, total, misses = 0, 0, []
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line) if line.strip() else {}
        if "actor" not in obj:
            continue
        want = (obj.pop("actor"), obj.pop("target", None))
        obj = {k: v for k, v in obj.items() if k not in ("expect", "kind")}
        t = Chain(rules=()).tagged(from_mapping(obj))
        pairs = {(e.actor, e.target) for e in t.events if weights[e.type] > 0}
        ok = want in pairs if want[1] else any(a == want[0] for a, _ in pairs)
        total += 1
        right += ok
        if not ok:
            misses.append(obj["title"])
    return right, total, misses


def cameo_outcomes(path: Path, rules: Sequence[Rule] | None = None) -> list[Outcome]:
    """Label 4 (material conflict) should alert; labels 1-2 (cooperation) should not; 0 and 3 are left out."""
    rs = rules if rules is not None else load_rules(RULES)
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) != 2 or row[1].strip() not in {"1", "2", "4"}:
                continue
            sentence, label = row[0].strip(), row[1].strip()
            raw = from_mapping({"title": "News sentence", "body": sentence})
            expected = "high" if label == "4" else "none"
            out.append(Outcome(sentence, expected, top_severity(raw, rs), f"label {label}"))
    return out


def ag_news_rates(
    path: Path = AG_NEWS, rules: Sequence[Rule] | None = None
) -> dict[str, tuple[int, int, list[str]]]:
    """Per AG News class: (items, items with an alert, titles of those). Sports and business
    are full of "clash", "attack", "strike" and "shot": a rough check of the traps on real text."""
    rs = rules if rules is not None else load_rules(RULES)
    out: dict[str, tuple[int, int, list[str]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for cls, title, desc in csv.reader(f):
            raw = from_mapping({"title": title, "body": desc.replace("\\", " ")})
            n, k, titles = out.get(AG_CLASSES.get(cls, cls), (0, 0, []))
            if top_severity(raw, rs) != "none":
                k += 1
                titles.append(title)
            out[AG_CLASSES.get(cls, cls)] = (n + 1, k, titles)
    return out


def main(argv: list[str]) -> int:
    for path in (LABELLED, HOLDOUT):
        t0 = time.perf_counter()
        lab = labelled_outcomes(path)
        m = score(lab)
        took = time.perf_counter() - t0
        print(f"{path.name} ({len(lab)} articles, {took:.2f}s): {m.line()}")
        for e in m.errors:
            print(f"  miss: expected {e.expected:8} got {e.got:8} [{e.kind}] {e.name}")
        for k, v in sorted(m.by_kind.items()):
            print(f"  {k}: {v}")
    right, total, misses = actor_target_share()
    print(f"actor → target right in {right}/{total} labelled articles; missed: {misses}")
    if "--ag" in argv:
        argv = [a for a in argv if a != "--ag"]
        if AG_NEWS.exists():
            t0 = time.perf_counter()
            rates = ag_news_rates()
            took = time.perf_counter() - t0
            print(
                f"AG News ({sum(n for n, _, _ in rates.values())} items, {took:.1f}s): share with an alert"
            )
            for cls, (items, alerted, titles) in rates.items():
                print(f"  {cls:9} {alerted:4}/{items} = {alerted / items:.3f}   e.g. {titles[:3]}")
        else:
            print(f"AG News not found at {AG_NEWS}: skipped")
    base = Path(argv[0]) if argv else CAMEO
    files = sorted(base.glob("*.tsv")) if base.is_dir() else [base]
    if not files or not files[0].exists():
        print(f"CAMEO corpus not found at {base}: skipped")
        return 0
    for f in files:
        t0 = time.perf_counter()
        outs = cameo_outcomes(f)
        cm = score(outs)
        took = time.perf_counter() - t0
        print(
            f"CAMEO {f.name} ({len(outs)} sentences with label 4 or 1-2, {took:.2f}s): {cm.line(severity=False)}"
        )
        sev = Counter(o.got for o in outs if o.expected != "none")
        print(
            "  label 4 alert severities: "
            + ", ".join(f"{s} {sev[s]}" for s in ("none", *SEVERITIES))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
