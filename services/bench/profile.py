"""Profiles of every worker under the bench, in one command (docs/performance.md, section 1).

    uv run --with py-spy python -m services.bench.profile [-n 5000] [--seconds 30] [--out DIR]

Starts `newswire bench -n N --no-passthrough --no-relay` on its own private stack, waits until
the workers have run for `--delay` seconds (past their start-up and the first rebalance), attaches
py-spy to each worker (`services.cli run <stage>`) for `--seconds` at 50 Hz, then writes per
worker the collapsed stacks (`<stage>.txt`), the CPU budget by part (`<stage>.budget`, from
services/bench/flame.py) and a flame graph (`<stage>.svg`), next to the bench's own report
(`report.json`, whose per-process CPU the budget's shares split). py-spy is not a dependency of the
project: `uv run --with py-spy` brings it for the run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from services.bench import flame


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (from /proc: the workers run under the bench's supervisor)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(x) for x in task.read_text().split()]
            except OSError:  # the process ended meanwhile
                continue
            out += kids
            todo += kids
    return out


def workers(pid: int) -> dict[str, int]:
    """Stage name -> pid of each worker process under `pid` (`python -m services.cli run
    <stage>`; the first replica when there are more)."""
    found: dict[str, int] = {}
    for child in _children(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if "services.cli" in argv:
            at = argv.index("services.cli")
            if argv[at + 1 : at + 2] == ["run"] and len(argv) > at + 2:
                found.setdefault(argv[at + 2], child)
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.bench.profile", description=__doc__)
    ap.add_argument("-n", type=int, default=5000, help="articles the bench sends")
    ap.add_argument("--seconds", type=int, default=30, help="how long py-spy samples each worker")
    ap.add_argument("--delay", type=int, default=30, help="seconds after the workers start")
    ap.add_argument("--rate", type=int, default=50, help="py-spy samples per second")
    ap.add_argument("--out", type=Path, default=Path(".newswire/profile"))
    args = ap.parse_args(argv)
    pyspy = shutil.which("py-spy")
    if pyspy is None:
        print("py-spy not found: run with `uv run --with py-spy python -m services.bench.profile`")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "bench.out").open("w", encoding="utf-8")
    bench = subprocess.Popen(
        [
            *(sys.executable, "-m", "services.cli", "bench", "-n", str(args.n)),
            *("--no-passthrough", "--no-relay", "--json", str(args.out / "report.json")),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        found: dict[str, int] = {}
        deadline = time.monotonic() + 600
        while len(found) < 4 and bench.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
            found = workers(bench.pid)
        if len(found) < 4:
            print(f"the workers did not start (found {found}); see {args.out / 'bench.out'}")
            return 1
        time.sleep(args.delay)
        spies = {
            stage: subprocess.Popen(
                [
                    *(pyspy, "record", "--pid", str(pid), "-d", str(args.seconds)),
                    *("-r", str(args.rate), "-f", "raw", "-o", str(args.out / f"{stage}.txt")),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for stage, pid in sorted(found.items())
        }
        for spy in spies.values():
            spy.wait()
        rc = bench.wait()
    finally:
        if bench.poll() is None:
            bench.terminate()
            bench.wait()
        log.close()
    for stage in spies:
        stacks_file = args.out / f"{stage}.txt"
        if not stacks_file.exists():
            print(f"{stage}: no samples")
            continue
        stacks = flame.parse(stacks_file)
        (args.out / f"{stage}.budget").write_text(flame.budget(stacks, 25), encoding="utf-8")
        (args.out / f"{stage}.svg").write_text(flame.svg(stacks, stage), encoding="utf-8")
        print(f"{stage}: {args.out / stage}.{{txt,budget,svg}}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
