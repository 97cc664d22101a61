"""The worker shell's error classes (issue 27): an output error of the record's own (too large,
invalid) dead-letters that record with the reason and the partition moves on; connection and
timeout errors are retried until they pass."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RecordTooLargeError
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError

from schemas import RawArticle
from services.common.settings import Settings
from services.common.worker import Stage, deterministic


class _Out(BaseModel):
    id: str
    size: int = 0


class _Topic:
    """A faust topic whose sends fail as `fail(value)` says (raise at the send, or in the ack)."""

    def __init__(self, fail: Callable[[bytes], BaseException | None] = lambda v: None) -> None:
        self.fail = fail
        self.sent: list[bytes] = []

    async def send(self, *, key: bytes | None, value: bytes, headers: Any = None) -> Any:
        exc = self.fail(value)
        if isinstance(exc, MessageSizeTooLargeError):  # aiokafka raises this one before sending
            raise exc
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if exc is not None:
            fut.set_exception(exc)
        else:
            self.sent.append(value)
            fut.set_result(None)
        return fut


def _stage(
    fail: Callable[[bytes], BaseException | None], deliver: Any = None
) -> tuple[Stage[Any], _Topic, _Topic]:
    app = faust.App("errors-test", broker="kafka://localhost:1", web_enabled=False)
    settings = Settings(_env_file=None, record_budget_s=0)

    def compute(value: bytes) -> list[_Out]:
        return [_Out(id=value.decode(), size=len(value))]

    stage: Stage[Any] = Stage(
        app=app,
        settings=settings,
        name="errors",
        compute=compute,
        source="in",
        sink="out",
        deliver=deliver,
    )
    sink, dlq = _Topic(fail), _Topic()
    stage.sink, stage.dlq = sink, dlq  # type: ignore[assignment]
    return stage, sink, dlq


def _msg(value: bytes, offset: int = 0) -> Any:
    return SimpleNamespace(
        topic="in", partition=0, offset=offset, timestamp=None, key=value, value=value, headers=[]
    )


def _reasons(dlq: _Topic) -> list[tuple[str, str]]:
    return [(d["error_class"], d["error"]) for d in map(json.loads, dlq.sent)]


@pytest.mark.parametrize(
    "error",
    [MessageSizeTooLargeError("1053201 bytes"), RecordTooLargeError("too large")],
)
async def test_a_record_too_large_is_dead_lettered_and_the_batch_moves_on(error: Exception) -> None:
    stage, sink, dlq = _stage(lambda v: error if b"big" in v else None)
    await asyncio.wait_for(stage.handle([_msg(b"a", 0), _msg(b"big", 1), _msg(b"c", 2)]), 10)
    # the batch, then each record alone (a repeat, which consumers drop by id)
    assert {json.loads(v)["id"] for v in sink.sent} == {"a", "c"}
    assert _reasons(dlq) == [(type(error).__name__, str(error))]
    assert stage.processed == 2 and stage.dead_lettered == 1


async def test_a_connection_error_is_retried_not_dead_lettered() -> None:
    failures = [KafkaConnectionError("broker away"), TimeoutError("no ack")]
    stage, sink, dlq = _stage(lambda v: failures.pop(0) if failures else None)
    await asyncio.wait_for(stage.handle([_msg(b"a")]), 10)
    assert [json.loads(v)["id"] for v in sink.sent] == ["a"]
    assert dlq.sent == [] and stage.retries == 2


def _invalid() -> Exception:
    try:
        RawArticle.model_validate({"title": "", "body": ""})
    except ValueError as exc:
        return exc
    raise AssertionError("valid")


@pytest.mark.parametrize("error", [_invalid(), ValueError("bad"), TypeError("t"), KeyError("k")])
async def test_a_deterministic_delivery_error_is_dead_lettered(error: Exception) -> None:
    async def deliver(outs: Any) -> None:
        raise error

    stage, _, dlq = _stage(lambda v: None, deliver)
    await asyncio.wait_for(stage.handle([_msg(b"a")]), 10)
    assert [c for c, _ in _reasons(dlq)] == [type(error).__name__]
    assert stage.retries == 0


async def test_a_redis_connection_error_in_delivery_is_retried() -> None:
    calls: list[int] = []

    async def deliver(outs: Any) -> None:
        calls.append(len(outs))
        if len(calls) < 3:
            raise RedisConnectionError("redis away")

    stage, sink, dlq = _stage(lambda v: None, deliver)
    await asyncio.wait_for(stage.handle([_msg(b"a")]), 10)
    assert calls == [1, 1, 1] and dlq.sent == [] and len(sink.sent) == 1  # Kafka not re-sent


def test_the_classes() -> None:
    assert deterministic(MessageSizeTooLargeError()) and deterministic(_invalid())
    for transient in (KafkaConnectionError(), TimeoutError(), RedisConnectionError(), OSError()):
        assert not deterministic(transient)
