"""Turns the figures a fault run wrote (NEWSWIRE_FAULT_FIGURES=file.jsonl) into the docs table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = [
    ("scenario", "scenario"),
    ("sent", "sent"),
    ("delivered", "delivered"),
    ("lost", "lost"),
    ("duplicated", "duplicated at subscriber/stream"),
    ("pubsub_received", "live pub/sub"),
    ("pubsub_gaps", "pub/sub gaps (backfilled from stream)"),
    ("subscriber_missing", "missing at subscriber"),
    ("reconnects", "subscriber reconnects"),
    ("dead_letters", "dead letters"),
    ("topic_extra_copies", "extra copies on alerts topic"),
    ("seconds", "run s"),
]


def table(rows: list[dict[str, object]]) -> str:
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    sep = "|" + "---|" * len(COLUMNS)
    body = [
        "| "
        + " | ".join(
            f"{r[k]:.0f}" if isinstance(r.get(k), float) else str(r.get(k, "-")) for k, _ in COLUMNS
        )
        + " |"
        for r in rows
    ]
    return "\n".join([head, sep, *body])


if __name__ == "__main__":
    rows = [json.loads(line) for p in sys.argv[1:] for line in Path(p).read_text().splitlines()]
    print(table(rows))
