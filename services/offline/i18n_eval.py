"""Precision, recall and severity agreement of the native detection (services/text/i18n.py) on
each language's labelled fixtures, straight through `assess` (no pipeline): the quick loop while
editing a lexicon; `newswire eval` gives the same languages' figures through the whole chain.

    python -m services.offline.i18n_eval [--split dev|test] [--language de] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from services.common.settings import PROJECT_ROOT
from services.offline.rates import Counts
from services.text.i18n import assess
from services.text.lexicon import LANGUAGES

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "labelled" / "i18n"


@dataclass
class Figures(Counts):
    """Counts of "is an escalation" against the labels, and how often event and severity agree."""

    severity_right: int = 0
    event_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def severity_share(self) -> float:
        return self.severity_right / self.tp if self.tp else 1.0

    def add(self, other: Figures) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn
        self.severity_right += other.severity_right
        self.event_right += other.event_right


def fixtures(language: str, split: str) -> list[dict[str, Any]]:
    path = FIXTURES / f"{language}.{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def evaluate(language: str, split: str = "test", year: int | None = 2026) -> Figures:
    """Figures of one language's labelled fixtures."""
    fig = Figures()
    for case in fixtures(language, split):
        got = assess(case["text"], case["language"], year)
        outcome = fig.count(bool(case["escalation"]), got.escalation)
        if outcome == "tp":
            fig.severity_right += got.severity == case["severity"]
            fig.event_right += case["event"] in {h.event for h in got.events}
            if got.severity != case["severity"]:
                fig.misses.append(f"severity {got.severity} != {case['severity']}: {case['text']}")
        elif outcome == "fp":
            fig.misses.append(f"false alarm {got.top_event}: {case['text']}")
        elif outcome == "fn":
            fig.misses.append(f"missed {case['event']}: {case['text']}")
    return fig


def report(
    split: str = "test",
    languages: Iterable[str] = LANGUAGES,
    out: Callable[[str], Any] = print,
    verbose: bool = False,
) -> dict[str, Figures]:
    """Prints precision, recall and severity agreement per language and overall (for `newswire
    eval`), and returns the figures."""
    figures: dict[str, Figures] = {}
    total = Figures()
    out(f"{'lang':<8}{'cases':>6}{'tp':>4}{'fp':>4}{'fn':>4}{'tn':>4}  precision  recall  severity")
    for lang in languages:
        fig = evaluate(lang, split)
        figures[lang] = fig
        total.add(fig)
        n = fig.tp + fig.fp + fig.fn + fig.tn
        out(
            f"{lang:<8}{n:>6}{fig.tp:>4}{fig.fp:>4}{fig.fn:>4}{fig.tn:>4}"
            f"  {fig.precision:9.3f}  {fig.recall:6.3f}  {fig.severity_share:8.3f}"
        )
        if verbose:
            for m in fig.misses:
                out(f"    {m}")
    n = total.tp + total.fp + total.fn + total.tn
    out(
        f"{'overall':<8}{n:>6}{total.tp:>4}{total.fp:>4}{total.fn:>4}{total.tn:>4}"
        f"  {total.precision:9.3f}  {total.recall:6.3f}  {total.severity_share:8.3f}"
    )
    figures["overall"] = total
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--split", default="test", choices=["dev", "test"])
    ap.add_argument("--language", action="append")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    report(args.split, args.language or LANGUAGES, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
