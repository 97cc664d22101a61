"""The per-record CPU budget (issue 27): a compute over budget is killed in its child, reported,
and the next record runs; the worker's loop keeps running meanwhile (heartbeats)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from pydantic import BaseModel

from services.common.budget import Budgeted, BudgetExceeded, ComputeCrashed, Encoded

_HOG = re.compile(r"(?:a|a)*b")  # exponential backtracking: one C call holding the GIL


class _Out(BaseModel):
    id: str


def _compute(value: bytes) -> list[_Out]:
    if value == b"hog":
        _HOG.match("a" * 60)  # hours
    if value == b"bad":
        raise ValueError("not an article")
    if value == b"die":
        import os

        os._exit(3)
    return [_Out(id=value.decode().upper())]


def _ids(outs: list[Encoded]) -> list[str]:
    assert all(o.kind is _Out and o.payload == f'{{"id":"{o.id}"}}'.encode() for o in outs)
    return [o.id for o in outs]


async def test_a_record_over_budget_is_killed_and_the_next_one_runs() -> None:
    run = Budgeted(_compute, budget_s=0.5)
    try:
        assert _ids(await run(b"first")) == ["FIRST"]
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        beat = asyncio.create_task(heartbeat())
        t0 = time.monotonic()
        with pytest.raises(BudgetExceeded, match=r"0\.5 s of CPU"):
            await run(b"hog")
        took = time.monotonic() - t0
        beat.cancel()
        assert took < 5  # the budget is CPU time: a loaded machine stretches it a little
        assert ticks >= took / 0.05 * 0.5  # the loop ran all along
        assert _ids(await run(b"next")) == ["NEXT"]
        assert run.forks == 2
    finally:
        run.close()


async def test_errors_come_back_with_their_class() -> None:
    run = Budgeted(_compute, budget_s=5)
    try:
        with pytest.raises(ValueError, match="not an article"):
            await run(b"bad")
        with pytest.raises(ComputeCrashed, match="3"):
            await run(b"die")
        assert _ids(await run(b"ok")) == ["OK"] and run.forks == 2
    finally:
        run.close()


async def test_a_cancelled_record_does_not_answer_the_next() -> None:
    run = Budgeted(_compute, budget_s=5)
    try:
        task = asyncio.create_task(run(b"hog"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _ids(await run(b"after")) == ["AFTER"]
    finally:
        run.close()


def test_large_records_pass_under_uvloop() -> None:
    """uvloop's add_reader sets the pipe non-blocking: a record larger than the socket buffer
    then failed to send (EAGAIN) and was taken for a crash (seen in the e2e pipeline)."""
    import uvloop

    async def main() -> list[str]:
        run = Budgeted(_compute, budget_s=5)
        try:
            out = []
            for _ in range(3):
                out += _ids(await run(b"a" * 2_000_000))
            return out
        finally:
            run.close()

    assert [len(i) for i in uvloop.run(main())] == [2_000_000] * 3
