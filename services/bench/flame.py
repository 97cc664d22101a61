"""Read py-spy's collapsed stacks (`py-spy record -f raw`): CPU by part and a small flame graph SVG.

    uv run python -m services.bench.flame enrichment.txt [--svg enrichment.svg] [--top 25]

Each sample goes to the part of the innermost frame that names one (pydantic, faust/mode,
aiokafka, redis, asyncio/uvloop, the worker shell, a stage's core), so a regex inside `enrich`
is core and pydantic inside the worker's decode is codec. The core is also split by its function
one level below the stage's entry (`enrich`, `tag`, `propose`). The SVG merges frames by function
(line numbers dropped), skips the process's start-up frames and omits boxes below 0.3 % of the width.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r" \(([^()]*?)(?::\d+)?\)$")
_ROOT_END = "Agent._execute_actor"  # everything above it is the process's start-up chain
_ENTRY = {"enrich", "tag", "propose", "evaluate", "story_terms", "count_terms", "build_trends"}


def parse(path: Path) -> Counter[tuple[str, ...]]:
    """Stacks as tuples of 'function (file)', outermost first, with their sample counts."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = tuple(_LINE.sub(r" (\1)", f) for f in stack.split(";"))
        stacks[frames] += int(n)
    return stacks


def part(frames: tuple[str, ...]) -> str:
    """The part a sample's CPU belongs to (innermost frame that names one)."""
    names = list(frames)
    for i in range(len(names) - 1, -1, -1):
        f = names[i]
        if "pydantic" in f:
            outer = " ".join(names[:i])
            if "services/common/worker.py" in outer and not _in_core(names[:i]):
                return "codec (pydantic decode/encode)"
            if "model_dump_json" in f or "model_validate_json" in f:
                return "codec (pydantic decode/encode)"
            continue  # a model built inside the core: counted with the core
        if "orjson" in f or "json/" in f:
            return "codec (json)"
        if "aiokafka" in f or "kafka/" in f:
            return "aiokafka"
        if "redis/" in f:
            return "redis client"
        if "faust/" in f or "mode/" in f or "venusian" in f:
            return "faust/mode"
        if "services/common/" in f or "services/delivery/" in f:
            return "worker shell / delivery"
        if _in_core(names[: i + 1]):
            return "core"
        if "asyncio" in f or "uvloop" in f or "selectors" in f:
            return "event loop"
    return "other"


def _in_core(frames: list[str] | tuple[str, ...]) -> bool:
    return any(
        f.startswith(tuple(e + " " for e in _ENTRY)) or "services/text/" in f for f in frames
    )


def core_function(frames: tuple[str, ...]) -> str | None:
    """The core function one level below the stage's entry (`enrich` -> `find_entities`)."""
    for i, f in enumerate(frames):
        name = f.split(" ", 1)[0]
        if name in _ENTRY and "services/" in f:
            return frames[i + 1] if i + 1 < len(frames) else f + " (self)"
    return None


def budget(stacks: Counter[tuple[str, ...]], top: int) -> str:
    total = sum(stacks.values()) or 1
    parts: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    for frames, n in stacks.items():
        p = part(frames)
        parts[p] += n
        if p == "core":
            fn = core_function(frames)
            funcs[fn or "(core, other)"] += n
    out = [f"samples {total}"]
    out += [f"  {p:32s} {n / total:6.1%}" for p, n in parts.most_common()]
    out.append("  core by function:")
    out += [f"    {f:70s} {n / total:6.1%}" for f, n in funcs.most_common(top)]
    return "\n".join(out)


def svg(
    stacks: Counter[tuple[str, ...]], title: str, width: int = 1000, min_frac: float = 0.003
) -> str:
    tree: dict[str, object] = {}
    counts: Counter[tuple[str, ...]] = Counter()
    for frames, n in stacks.items():
        fr = list(frames)
        if any(f.startswith(_ROOT_END) for f in fr):
            fr = fr[next(i for i, f in enumerate(fr) if f.startswith(_ROOT_END)) :]
        for d in range(1, len(fr) + 1):
            counts[tuple(fr[:d])] += n
    del tree
    total = sum(n for k, n in counts.items() if len(k) == 1) or 1
    row = 16
    boxes: list[str] = []
    depth_max = 0
    x_of: dict[tuple[str, ...], float] = {}
    for key in sorted(counts, key=lambda k: (len(k), k)):
        n = counts[key]
        if n / total < min_frac:
            continue
        parent = key[:-1]
        if parent and parent not in x_of:
            continue
        x0 = x_of.get(parent, 0.0) if parent else x_of.get((), 0.0)
        x_of[key] = x0
        x_of[parent] = x0 + n / total * width  # next sibling starts after this one
        d = len(key) - 1
        depth_max = max(depth_max, d)
        w = n / total * width
        name = key[-1]
        label = name.split(" ", 1)[0]
        shown = label if w > 7 * len(label) else label[: max(0, int(w / 7) - 1)]
        hue = 0 if "services/" in name else 30 if "pydantic" in name else 200
        boxes.append(
            f"<g><title>{html.escape(name)} ({n} samples, {n / total:.1%})</title>"
            f'<rect x="{x0:.1f}" y="{{Y{d}}}" width="{w:.1f}" height="{row - 1}" '
            f'fill="hsl({hue},70%,{60 + (hash(label) % 20)}%)"/>'
            f'<text x="{x0 + 2:.1f}" y="{{T{d}}}">{html.escape(shown)}</text></g>'
        )
    height = (depth_max + 3) * row
    doc = "\n".join(boxes)
    for d in range(depth_max + 1):
        y = height - (d + 2) * row
        doc = doc.replace(f"{{Y{d}}}", str(y)).replace(f"{{T{d}}}", str(y + 11))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="10">\n'
        f'<text x="4" y="12" font-size="12">{html.escape(title)}</text>\n{doc}\n</svg>\n'
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.bench.flame", description=__doc__)
    ap.add_argument("raw", type=Path)
    ap.add_argument("--svg", type=Path)
    ap.add_argument("--title", default="")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    stacks = parse(args.raw)
    print(budget(stacks, args.top))
    if args.svg:
        args.svg.write_text(svg(stacks, args.title or args.raw.stem), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
