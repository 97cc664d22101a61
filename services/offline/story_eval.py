"""Pairwise precision and recall of story grouping on a labelled story set.

    uv run python -m services.offline.story_eval [tests/fixtures/stories/stories.jsonl] [-v]

Each line of the set is an article (`title`, `body`, `published_at`, `url`) with its `story`
label and its `kind` (paraphrase, update, translation, template); a set whose lines also carry an
`origin` label (the independent source behind the article) is scored on the origins count too:
per labelled story, the origins its story record counts against the distinct labels. The articles go through the
one chain (enrich -> tag -> evaluate, with story state) in publication order. A pair of articles is
a true positive when both the labels and the story ids agree; precision = TP / pairs grouped
together, recall = TP / pairs labelled together.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

from services.common.settings import PROJECT_ROOT
from services.offline.rates import Rates

DEFAULT = PROJECT_ROOT / "tests" / "fixtures" / "stories" / "stories.jsonl"


@dataclass(frozen=True)
class Scores(Rates):
    articles: int
    stories: int
    predicted: int
    tp: int
    fp: int
    fn: int
    false_merges: list[tuple[str, str]]
    false_splits: list[tuple[str, str]]
    origins: dict[str, tuple[int, int]] = field(default_factory=dict)  # story: (labelled, counted)


def pairwise(labels: dict[str, str], predicted: dict[str, str]) -> Scores:
    """Pair counts of a labelled grouping against a predicted one (article id -> group)."""
    tp = fp = fn = 0
    merges, splits = [], []
    for a, b in combinations(sorted(labels), 2):
        same, grouped = labels[a] == labels[b], predicted[a] == predicted[b]
        if same and grouped:
            tp += 1
        elif grouped:
            fp += 1
            merges.append((a, b))
        elif same:
            fn += 1
            splits.append((a, b))
    return Scores(
        len(labels),
        len(set(labels.values())),
        len(set(predicted.values())),
        tp,
        fp,
        fn,
        merges,
        splits,
    )


def load(path: Path) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted(rows, key=lambda r: (r["published_at"], r["id"]))


def evaluate_set(path: Path) -> Scores:
    from services.ingest.parse import from_mapping
    from services.offline.chain import Chain

    chain = Chain.load()
    labels: dict[str, str] = {}
    predicted: dict[str, str] = {}
    sources: dict[str, set[str]] = {}  # labelled story: its origin labels
    counted: dict[str, int] = {}  # labelled story: origins of its last article's story
    for row in load(path):
        raw = from_mapping({k: row[k] for k in ("title", "body", "url", "published_at")})
        tagged, _ = chain.run(raw)
        labels[row["id"]] = row["story"]
        predicted[row["id"]] = chain.state.story_of(tagged.article.id) or tagged.article.id
        if "origin" in row:
            sources.setdefault(row["story"], set()).add(row["origin"])
            story = chain.state.stories.get(predicted[row["id"]])
            counted[row["story"]] = story.origins if story is not None else 1
    origins = {k: (len(sources[k]), counted[k]) for k in sorted(counted)}
    return replace(pairwise(labels, predicted), origins=origins)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("-v", "--verbose", action="store_true", help="List the wrong pairs.")
    args = ap.parse_args(argv)
    s = evaluate_set(args.path)
    print(
        f"{args.path.name}: {s.articles} articles, {s.stories} labelled stories, "
        f"{s.predicted} predicted; pairs: TP {s.tp}, FP {s.fp}, FN {s.fn}; "
        f"precision {s.precision:.3f}, recall {s.recall:.3f}"
    )
    if s.origins:
        exact = sum(want == got for want, got in s.origins.values())
        print(
            f"origins: {exact} of {len(s.origins)} stories counted exactly; "
            + ", ".join(f"{k} {got}/{want}" for k, (want, got) in s.origins.items())
            + " (counted/labelled)"
        )
    if args.verbose:
        for a, b in s.false_merges:
            print(f"  merged apart-labelled: {a} {b}")
        for a, b in s.false_splits:
            print(f"  split same-labelled:   {a} {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
