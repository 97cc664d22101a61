"""`newswire status`: every service's replicas, progress, dead letters, lag and last error."""

from __future__ import annotations

import json

import click

from services.cli.shell import _run
from services.common.kafka_admin import KafkaAdmin
from services.common.settings import get_settings
from services.common.topics import Topics
from services.common.topology import SERVICES, WORKERS, group_id, inputs


@click.command("status")
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Every service: replicas reporting, records processed, dead letters, consumer lag, last error."""
    from services.common.health import read_heartbeats
    from services.common.redisconn import make_redis
    from services.ops.status import format_status, status_rows

    s = get_settings()
    topics = Topics.from_settings(s)

    async def go() -> list[dict[str, object]]:
        client = make_redis(s, max_connections=2)
        try:
            beats = await read_heartbeats(client, s.redis_prefix)
        finally:
            await client.aclose()
        lags: dict[str, int | None] = {}
        async with KafkaAdmin.connect(s) as admin:
            for stage in WORKERS:
                try:
                    lags[stage] = sum(
                        [
                            (await admin.lag(group_id(s, stage), getattr(topics, attr))).total
                            for attr in inputs(stage)
                        ]
                    )
                except LookupError:
                    lags[stage] = None
        return status_rows(SERVICES, beats, lags)

    rows = _run(go())
    click.echo(json.dumps(rows, indent=2) if as_json else format_status(rows))
