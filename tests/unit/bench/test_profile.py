"""The profiler finds each worker under the bench by its command line."""

from __future__ import annotations

import os
import subprocess
import sys

from services.bench.profile import workers


def test_workers_are_found_by_stage_among_the_descendants() -> None:
    sleep = "import time; time.sleep(30)"
    procs = [
        subprocess.Popen([sys.executable, "-c", sleep, "services.cli", "run", stage])
        for stage in ("enrichment", "tagging")
    ]
    other = subprocess.Popen([sys.executable, "-c", sleep, "services.cli", "bench"])
    try:
        found = workers(os.getpid())
        assert found == {"enrichment": procs[0].pid, "tagging": procs[1].pid}
    finally:
        for p in (*procs, other):
            p.kill()
            p.wait()
