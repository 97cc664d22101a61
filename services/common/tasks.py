"""Stopping background tasks for sure: a cancellation can be lost on Python 3.11.

`asyncio.wait_for` there returns the inner result when the cancellation arrives as the inner call
completes (CPython gh-86296, fixed in 3.12), and aiokafka, redis-py and aiohttp await through it:
a task cancelled once may carry on with its loop, and `task.cancel(); await task` then waits for
ever. (The dashboard's clean-up was once seen hanging in a test; this is the way we know of that a
cancelled loop carries on, not a traced cause.) `stop_tasks` cancels again until each task has
ended, within a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


async def stop_tasks(
    tasks: Iterable[asyncio.Task[Any]], wait_s: float = 10.0
) -> set[asyncio.Task[Any]]:
    """Cancel the tasks, and again every 0.1 s, until all have ended or `wait_s` has passed;
    their exceptions are retrieved (not raised). Returns those still running (logged)."""
    tasks = list(tasks)
    pending = {t for t in tasks if not t.done()}
    deadline = time.monotonic() + wait_s
    while pending and time.monotonic() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(
            pending, timeout=min(0.1, max(0.0, deadline - time.monotonic()))
        )
    for task in tasks:
        if task.done() and not task.cancelled():
            with contextlib.suppress(BaseException):
                task.result()
    for task in pending:
        log.warning("task %s still running %.0fs after its cancellation", task.get_name(), wait_s)
    return pending
