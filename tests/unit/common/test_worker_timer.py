"""A worker's periodic job never crashes the worker (faust ends the worker when a timer raises)."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.worker import every


class _App:
    def __init__(self) -> None:
        self.timers: list[tuple[float, Any]] = []

    def timer(self, interval: float) -> Any:
        def register(fn: Any) -> Any:
            self.timers.append((interval, fn))
            return fn

        return register


async def test_a_failing_job_is_logged_and_the_next_tick_runs_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def flush_digests() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    app = _App()
    every(app, "alerts", 60, flush_digests)  # type: ignore[arg-type]
    ((interval, timer),) = app.timers
    assert interval == 60 and timer.__name__ == "flush_digests"
    await timer()  # Redis away: must not raise
    await timer()
    assert len(calls) == 2
    assert "flush_digests failed (ConnectionError" in caplog.text
