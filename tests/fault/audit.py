"""The commit invariant, checked from the workers' audit files (services/common/offsets.py).

No committed offset may pass an offset its consumer group has not durably handled before the
commit: for every commit line `C topic partition offset t`, each offset from the partition's
beginning (0: the fault runs use fresh topics) up to offset - 1 must appear in a handled line
`H topic partition first last t'` of the same group with t' <= t, from any of its processes.
This reads only what the stages wrote; it does not reuse the keeper's arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AuditResult:
    commits: int = 0
    violations: list[str] = field(default_factory=list)


def check(directory: Path) -> AuditResult:
    lines: dict[str, list[tuple[int, str, str, int, int, int]]] = defaultdict(list)
    for path in sorted(directory.glob("*.audit")):
        group = path.name.split(".")[0]
        for raw in path.read_text().splitlines():
            parts = raw.split()
            if len(parts) == 6 and parts[0] == "H":
                _, topic, p, first, last, ns = parts
                lines[group].append((int(ns), "H", topic, int(p), int(first), int(last)))
            elif len(parts) == 5 and parts[0] == "C":
                _, topic, p, offset, ns = parts
                lines[group].append((int(ns), "C", topic, int(p), int(offset), 0))
    result = AuditResult()
    for group, events in lines.items():
        events.sort(key=lambda e: (e[0], e[1] == "C"))  # a handled line first at equal times
        handled: dict[tuple[str, int], set[int]] = defaultdict(set)
        contiguous: dict[tuple[str, int], int] = defaultdict(int)  # first offset not handled
        for _, kind, topic, p, a, b in events:
            key = (topic, p)
            if kind == "H":
                handled[key].update(range(a, b + 1))
                while contiguous[key] in handled[key]:
                    contiguous[key] += 1
            else:
                result.commits += 1
                if a > contiguous[key]:
                    result.violations.append(
                        f"{group} committed {topic}[{p}]@{a} with {contiguous[key]} not handled"
                    )
    return result
