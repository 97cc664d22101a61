"""A `Stage` worker widened onto issue 15's traced path, for `test_traced_rejoin.py`.

`python -m tests.integration.traced_worker CONTROL_DIR` runs a stage that copies the raw topic
to the enriched one (`{"id": value}`), with test-only patches that make the traced path happen
on every run (none of them is in the product code):

- **the first commit is held back**: aiokafka's `commit` raises `CommitFailedError` while the file
  `CONTROL_DIR/hold` exists, so the fresh group has no committed offset when it rejoins;
- **a forced rejoin**: when `CONTROL_DIR/rejoin` appears, the consumer thread calls aiokafka's
  `request_rejoin()` (aiokafka's `_on_join_prepare` starts the reassignment, so a fetch issued from
  then on waits in `fetched_records` -> `wait_for_assignment()` and returns the new assignment's
  records, moving the position past them);
- **a delay in the revoke handler** (`REVOKE_DELAY_S`, faust's `App._on_partitions_revoked`, only
  after the forced rejoin) keeps faust's flow running while aiokafka already rejoins, so faust's
  fetcher issues that fetch;
- **a delay before the seek in `_resume_streams`** (`RESUME_DELAY_S`): the fetch returns while
  faust's flow is still stopped, faust's `getmany` drops its records and calls `perform_seek`.

What happened is appended to `CONTROL_DIR/trace.jsonl` as JSON lines: `fetched-while-stopped` (partition,
offsets and aiokafka's position when faust's `getmany` received a fetch with its flow stopped),
`seek` (each `perform_seek`, with the committed offsets and the position after it), `rejoin`,
`revoke`, `resumed`, `commit-held`, and `stalls` (the `OffsetKeeper`'s count at each commit).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

REVOKE_DELAY_S = 3.0
RESUME_DELAY_S = 2.0

_in_resume: contextvars.ContextVar[bool] = contextvars.ContextVar("in_resume", default=False)


class Copy(BaseModel):
    id: str


_TRACE: list[Path] = []


def trace(event: str, **fields: Any) -> None:
    line = json.dumps({"event": event, "t": time.time(), **fields}) + "\n"
    with _TRACE[0].open("a") as f:
        f.write(line)


def _positions(consumer: Any) -> dict[str, int | None]:
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    assignment = client._subscription.subscription.assignment if client is not None else None
    out: dict[str, int | None] = {}
    if assignment is None:
        return out
    for tp in assignment.tps:
        state = assignment.state_value(tp)
        out[f"{tp.topic}[{tp.partition}]"] = state.position if state.has_valid_position else None
    return out


def patch(control: Path) -> None:
    _TRACE.append(control / "trace.jsonl")
    import faust.app.base
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import CommitFailedError
    from faust.tables.recovery import Recovery
    from faust.transport.consumer import Consumer

    state: dict[str, Any] = {"rejoined": False}

    commit = AIOKafkaConsumer.commit

    async def held_commit(self: Any, offsets: Any = None) -> None:
        if (control / "hold").exists():
            trace(
                "commit-held",
                offsets={
                    f"{tp.topic}[{tp.partition}]": str(o) for tp, o in (offsets or {}).items()
                },
            )
            raise CommitFailedError("held back by the test")
        await commit(self, offsets)

    AIOKafkaConsumer.commit = held_commit  # type: ignore[method-assign]

    revoked = faust.app.base.App._on_partitions_revoked

    async def slow_revoke(self: Any, revoked_tps: Any) -> None:
        if state["rejoined"]:
            trace("revoke", delay=REVOKE_DELAY_S)
            await asyncio.sleep(REVOKE_DELAY_S)
        await revoked(self, revoked_tps)

    faust.app.base.App._on_partitions_revoked = slow_revoke  # type: ignore[method-assign]

    resume = Recovery._resume_streams

    async def slow_resume(self: Any, generation_id: int = 0) -> None:
        token = _in_resume.set(True)
        try:
            await resume(self, generation_id=generation_id)
        finally:
            _in_resume.reset(token)
        trace("resumed", generation=generation_id)

    Recovery._resume_streams = slow_resume  # type: ignore[method-assign]

    wait_next = Consumer._wait_next_records

    async def watched_wait(self: Any, timeout: float) -> Any:
        records, active = await wait_next(self, timeout)
        if records and not self.flow_active:
            state["fetch_seek"] = True  # faust's getmany seeks now (not `_resume_streams`)
            trace(
                "fetched-while-stopped",
                offsets={
                    f"{tp.topic}[{tp.partition}]": [r.offset for r in recs]
                    for tp, recs in records.items()
                },
                positions=_positions(self),
            )
        return records, active

    Consumer._wait_next_records = watched_wait  # type: ignore[method-assign]

    # Installed after the worker's own patches (own_offsets wraps perform_seek when the Stage
    # is made), so wrap at the first call.
    def wrap_seek() -> None:
        perform_seek = Consumer.perform_seek

        async def slow_seek(self: Any) -> None:
            if _in_resume.get() and state["rejoined"] and not state.pop("fetch_seek", False):
                trace("resume-delay", delay=RESUME_DELAY_S)
                await asyncio.sleep(RESUME_DELAY_S)
            await perform_seek(self)
            trace("seek", flow_active=self.flow_active, positions=_positions(self))

        Consumer.perform_seek = slow_seek  # type: ignore[method-assign]

    state["wrap_seek"] = wrap_seek

    async def watch_control(app: Any) -> None:
        while True:
            await asyncio.sleep(0.1)
            if not state["rejoined"] and (control / "rejoin").exists():
                state["rejoined"] = True

                async def rejoin() -> None:
                    client = app.consumer._thread._ensure_consumer()
                    client._coordinator.request_rejoin()

                trace("rejoin")
                await app.consumer._thread.call_thread(rejoin)

    state["watch_control"] = watch_control
    _STATE.update(state)


_STATE: dict[str, Any] = {}


def build(control: Path) -> Any:
    from services.common.settings import get_settings
    from services.common.worker import Stage, make_app

    patch(control)
    settings = get_settings()
    app = make_app("enrichment", settings)
    Stage(
        app=app,
        settings=settings,
        name="enrichment",
        compute=lambda value: [Copy(id=value.decode())],
    )
    _STATE["wrap_seek"]()

    @app.task
    async def control_task() -> None:
        await _STATE["watch_control"](app)

    @app.timer(1.0)
    async def stalls() -> None:
        try:
            from services.common.offsets import keeper_of
        except ImportError:  # the code before the worker owned its offsets
            return
        keeper = keeper_of(app)
        trace("stalls", count=keeper.stalls if keeper is not None else None)

    return app


def main() -> None:
    from services.common.worker import run_worker

    control = Path(sys.argv[1])
    sys.argv = [sys.argv[0]]  # faust's worker reads argv
    run_worker(build(control), loglevel="info")


if __name__ == "__main__":
    main()
