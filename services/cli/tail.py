"""`newswire tail`: records of a topic, as they are or as they come."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import click

from services.cli.shell import _settings
from services.common.kafka import stop_quietly
from services.common.topics import Topics


@click.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record.")
@click.option("--since", default=None, help="Start at this time: 10m, 2h, 1d or ISO 8601.")
@click.option("-n", "--lines", type=int, default=10, help="Otherwise the last N per partition.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new records.")
@click.option(
    "--where", "wheres", multiple=True, help="FIELD=VALUE on the JSON, e.g. severity=high."
)
@click.option("--grep", default=None, help="Only records containing this text (any case).")
@click.option("--json", "as_json", is_flag=True, help="Print each record value as it is.")
@click.option("--count", type=int, default=None, help="Exit after this many records.")
@click.option("--timeout", type=float, default=None, help="With --follow: exit after idle seconds.")
def tail(
    topic: str,
    from_beginning: bool,
    since: str | None,
    lines: int,
    follow: bool,
    wheres: tuple[str, ...],
    grep: str | None,
    as_json: bool,
    count: int | None,
    timeout: float | None,
) -> None:
    """Print a topic's records (TOPIC may be raw, enriched, tagged, alerts, deadletter or a name)."""
    from aiokafka import AIOKafkaConsumer

    from schemas.base import utcnow
    from services.common.kafka import topic_partitions
    from services.ops.tail import Filter, format_record, keep, parse_since

    s = _settings()
    name = getattr(Topics.from_settings(s), topic, topic)
    try:
        filters = [Filter.parse(w) for w in wheres]
        start_at = parse_since(since, utcnow()) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def go() -> None:
        from services.common.kafka import client_kwargs

        consumer = AIOKafkaConsumer(**client_kwargs(s), enable_auto_commit=False)
        await consumer.start()
        try:
            tps = (await topic_partitions(consumer, [name]))[name]
            if not tps:
                raise click.ClickException(f"no topic {name!r}")
            consumer.assign(tps)
            first = await consumer.beginning_offsets(tps)
            end = await consumer.end_offsets(tps)
            if start_at is not None:
                found = await consumer.offsets_for_times(
                    dict.fromkeys(tps, int(start_at.timestamp() * 1000))
                )
                for tp in tps:
                    consumer.seek(tp, found[tp].offset if found[tp] else end[tp])
            else:
                for tp in tps:
                    consumer.seek(
                        tp, first[tp] if from_beginning else max(first[tp], end[tp] - lines)
                    )
            n, idle = 0, 0.0
            while count is None or n < count:
                if not follow and all([await _caught_up(consumer, tp, end) for tp in tps]):
                    return
                batch = await consumer.getmany(timeout_ms=500)
                idle = 0.0 if batch else idle + 0.5
                if follow and timeout is not None and idle >= timeout:
                    return
                for tp, records in batch.items():
                    for r in records:
                        if not keep(r.value, filters, grep):
                            continue
                        if as_json:
                            click.echo((r.value or b"").decode("utf-8", "replace"))
                        else:
                            click.echo(
                                format_record(tp.partition, r.offset, r.timestamp, r.key, r.value)
                            )
                        n += 1
                        if count is not None and n >= count:
                            return
        finally:
            await stop_quietly(consumer)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


async def _caught_up(consumer: Any, tp: Any, end: dict[Any, int]) -> bool:
    return bool(await consumer.position(tp) >= end[tp])
