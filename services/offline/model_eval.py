"""Figures of the sentence classifier on the dev split, alone and behind the co-occurrence gate.

The gate is the issue's anchor: an alert when the probability is at least 0.7 AND the sentence
has a violence or weapon word. Its words are the taxonomy's armed-context, weapon and casualty
terms plus `VIOLENCE_WORDS`; the figures say what it costs in recall and buys in precision.
`python -m services.offline.model_eval [CORPORA]` prints them for the shipped model.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from services.offline.corpora import UNLABELLED, Example, load_all
from services.text.classifier import SentenceModel

THRESHOLDS = (0.5, 0.7, 0.8)
GATE_THRESHOLD = 0.7
TAXONOMY = Path(__file__).resolve().parents[1] / "text" / "data" / "taxonomy.yaml"
# Violence words the taxonomy keeps as event triggers rather than as context words.
VIOLENCE_WORDS = (
    "attack*", "assault*", "explo*", "blast*", "gunfire", "gunshot*", "shot", "shoot*", "fired",
    "ambush*", "abduct*", "kidnap*", "hostage*", "clash*", "fighting", "firefight*", "massacre*",
    "murder*", "assassinat*", "arson", "torched", "grenade*", "landmine*", "sniper*", "raid*",
    "airstrike*", "shelling", "invasion", "invad*", "offensive", "warship*", "navy", "naval",
    "exercise*", "drill*", "deploy*", "battalion*", "guerrilla*", "terror*", "insurgen*", "riot*",
    "torture*", "violence", "violent", "wounded", "injured", "dead", "died",
)  # fmt: skip
SPORT_BUSINESS_TECH = ("ag-sports", "ag-business", "ag-scitech", "bbc", "reuters")


def gate_terms(taxonomy: Path = TAXONOMY) -> list[str]:
    """Armed-context, weapon and casualty terms of the taxonomy, plus `VIOLENCE_WORDS`."""
    doc = yaml.safe_load(taxonomy.read_text(encoding="utf-8")) if taxonomy.exists() else {}
    terms = list(doc.get("armed_context", []))
    for weapon_class in doc.get("weapons", {}).values():
        terms += weapon_class["terms"]
    terms += doc.get("casualties", {}).get("terms", [])
    return sorted({str(t).lower() for t in terms} | set(VIOLENCE_WORDS))


def gate_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """One regex: `word*` matches words that start with it, other terms whole words; hyphens and
    spaces inside a term match either."""
    parts = []
    for term in terms:
        stem = term.rstrip("*")
        body = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", stem))
        parts.append(body + (r"\w*" if term.endswith("*") else r"\b"))
    return re.compile(r"\b(?:" + "|".join(sorted(parts, key=len, reverse=True)) + ")", re.I)


def _rates(probs: Sequence[float], gated: Sequence[bool]) -> dict[str, float]:
    n = len(probs) or 1
    out = {f"@{t}": sum(p >= t for p in probs) / n for t in THRESHOLDS}
    out["gated@0.7"] = sum(p >= GATE_THRESHOLD and g for p, g in zip(probs, gated, strict=True)) / n
    return out


def _prf(pairs: Sequence[tuple[int, bool]]) -> dict[str, float]:
    tp = sum(1 for y, hit in pairs if y == 1 and hit)
    fp = sum(1 for y, hit in pairs if y == 0 and hit)
    fn = sum(1 for y, hit in pairs if y == 1 and not hit)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "tp": tp,
        "fp": fp,
    }


def evaluate(
    model: SentenceModel, dev: Sequence[Example], gate: re.Pattern[str] | None = None
) -> dict[str, Any]:
    """Dev figures: pooled P/R/F1 at each threshold and gated, alert rates by source for
    sentences and for whole documents (a document alerts when any sentence does)."""
    gate = gate or gate_pattern(gate_terms())
    probs = [model.score(e.text) for e in dev]
    gated = [bool(gate.search(e.text)) for e in dev]
    labelled = [i for i, e in enumerate(dev) if e.label != UNLABELLED]
    pooled: dict[str, Any] = {}
    for t in THRESHOLDS:
        pooled[f"@{t}"] = _prf([(dev[i].label, probs[i] >= t) for i in labelled])
    pooled["gated@0.7"] = _prf(
        [(dev[i].label, probs[i] >= GATE_THRESHOLD and gated[i]) for i in labelled]
    )
    sources: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(dev):
        sources[e.source].append(i)
    by_source: dict[str, Any] = {}
    for source, idx in sorted(sources.items()):
        docs: dict[str, tuple[float, bool]] = {}
        for i in idx:
            best = docs.get(dev[i].group, (0.0, False))
            hit = probs[i] >= GATE_THRESHOLD and gated[i]
            docs[dev[i].group] = (max(best[0], probs[i]), best[1] or hit)
        by_source[source] = {
            "label": dev[idx[0]].label,
            "sentences": len(idx),
            "sentence_alert_rate": _rates([probs[i] for i in idx], [gated[i] for i in idx]),
            "documents": len(docs),
            "document_alert_rate": _docs_rates(list(docs.values())),
        }
    return {"pooled": pooled, "by_source": by_source}


def _docs_rates(docs: Sequence[tuple[float, bool]]) -> dict[str, float]:
    n = len(docs) or 1
    out = {f"@{t}": sum(p >= t for p, _ in docs) / n for t in THRESHOLDS}
    out["gated@0.7"] = sum(hit for _, hit in docs) / n
    return out


def print_report(metrics: dict[str, Any], echo: Callable[[str], None] = print) -> None:
    """The figures as plain text tables (cross-validation first when present)."""
    cv = metrics.get("cv") or {}
    if cv:
        echo(f"cross-validation ({cv['folds']} grouped folds, training split), C={cv['C']}")
        for key, m in cv["pooled"].items():
            echo(f"  {key:<10} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}")
    dev = metrics.get("dev", metrics)
    echo("dev split, pooled labelled sentences")
    for key, m in dev["pooled"].items():
        echo(
            f"  {key:<10} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}"
            f"  (tp {m['tp']}, fp {m['fp']})"
        )
    echo("dev split, alert rate by source (recall where label 1, false-alert rate where 0)")
    head = "".join(f"{k:>11}" for k in (*[f"@{t}" for t in THRESHOLDS], "gated@0.7"))
    echo(f"  {'source':<24}{'label':>6}{'n':>7}{head}   unit")
    for source, s in dev["by_source"].items():
        for unit in ("sentence", "document"):
            rates = s[f"{unit}_alert_rate"]
            n = s["sentences" if unit == "sentence" else "documents"]
            cells = "".join(f"{v:>11.4f}" for v in rates.values())
            echo(f"  {source:<24}{s['label']:>6}{n:>7}{cells}   {unit}")
    for key in ("size_bytes", "seconds"):
        if key in metrics:
            echo(f"{key}: {metrics[key]}")


def cost_per_sentence(
    model: SentenceModel, texts: Sequence[str], rounds: int = 3
) -> dict[str, float]:
    """Milliseconds a sentence for `score` and for `predict` (best of `rounds` passes, so a
    neighbour's burst on a shared machine does not count), and the mean length in words."""
    out = {"words": sum(len(t.split()) for t in texts) / max(len(texts), 1)}
    for name, call in (("score_ms", model.score), ("predict_ms", model.predict)):
        best = math.inf
        for _ in range(rounds):
            started = time.perf_counter()
            for t in texts:
                call(t)
            best = min(best, time.perf_counter() - started)
        out[name] = 1000 * best / max(len(texts), 1)
    return out


def main(argv: Sequence[str] = sys.argv[1:]) -> None:
    """Score the shipped model on the dev split of the corpora (default ../shared/corpora) and
    time it on those sentences."""
    root = Path(argv[0]) if argv else Path("../shared/corpora")
    dev = [e for e in load_all(root) if e.split == "dev"]
    started = time.perf_counter()
    model = SentenceModel.load()
    load_ms = 1000 * (time.perf_counter() - started)
    print_report({"dev": evaluate(model, dev)})
    sample = [e.text for e in dev if e.source not in ("satp", "insightcrime")][:20_000]
    cost = cost_per_sentence(model, sample)
    print(
        f"cost: load {load_ms:.0f} ms; {len(sample)} dev sentences of {cost['words']:.1f} words "
        f"on average: score {cost['score_ms']:.4f} ms, predict {cost['predict_ms']:.4f} ms each"
    )


if __name__ == "__main__":
    main()
