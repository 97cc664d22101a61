"""`newswire topics create|describe|reset-offsets`: the topics and the consumer groups' offsets."""

from __future__ import annotations

import json
from datetime import datetime

import click

from services.cli.shell import _run
from services.common.kafka_admin import KafkaAdmin, topic_specs
from services.common.settings import Settings, get_settings
from services.common.topics import Topics
from services.common.topology import WORKERS, group_id, inputs


@click.group()
def topics() -> None:
    """Kafka topic administration."""


def _topic_name(s: Settings, topic: str) -> str:
    """`raw`, `enriched`, ... or a full topic name."""
    return str(getattr(Topics.from_settings(s), topic, topic))


def _group(s: Settings, stage_or_group: str) -> str:
    return group_id(s, stage_or_group) if stage_or_group in WORKERS else stage_or_group


async def apply_topics(s: Settings) -> list[str]:
    async with KafkaAdmin.connect(s) as admin:
        return await admin.apply(topic_specs(s))


@topics.command("create")
def topics_create() -> None:
    """Create the topics, or bring them to the spec: partitions, replication, retention, compaction."""
    s = get_settings()
    changes = _run(apply_topics(s))
    for line in changes:
        click.echo(line)
    click.echo(
        f"topics up to date ({len(changes)} change(s)): " + ", ".join(Topics.from_settings(s).all())
    )


@topics.command("describe")
@click.argument("topics", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
def topics_describe(topics: tuple[str, ...], as_json: bool) -> None:
    """Partitions, replication factor, retention/compaction and record counts of each topic."""
    s = get_settings()
    names = [_topic_name(s, t) for t in topics] or Topics.from_settings(s).all()

    async def go() -> list[dict[str, object]]:
        async with KafkaAdmin.connect(s) as admin:
            infos = await admin.describe(names)
        return [
            {
                "topic": i.name,
                "partitions": i.partitions,
                "replication_factor": i.replication_factor,
                "cleanup.policy": i.configs.get("cleanup.policy"),
                "retention.ms": i.configs.get("retention.ms"),
                "min.insync.replicas": i.configs.get("min.insync.replicas"),
                "end_offsets": i.end_offsets,
            }
            for i in infos
        ]

    try:
        rows = _run(go())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['topic']}: partitions={r['partitions']} replication={r['replication_factor']} "
            f"min.insync.replicas={r['min.insync.replicas']} cleanup.policy={r['cleanup.policy']} "
            f"retention.ms={r['retention.ms']} end_offsets={r['end_offsets']}"
        )


@topics.command("reset-offsets")
@click.option("--group", "group", required=True, help="A stage (enrichment, ...) or a group id.")
@click.option("--topic", default=None, help="Default: the stage's input topic.")
@click.option("--to", "to", type=click.Choice(["earliest", "latest", "datetime"]), required=True)
@click.option("--datetime", "at", type=click.DateTime(), default=None, help="With --to datetime.")
@click.option("--execute", is_flag=True, help="Commit the offsets; without it, only show the plan.")
def topics_reset_offsets(
    group: str, topic: str | None, to: str, at: datetime | None, execute: bool
) -> None:
    """Move a stopped consumer group to new offsets (re-process or skip records)."""
    s = get_settings()
    if topic is None:
        if group not in WORKERS:
            raise click.UsageError("--topic is needed for a group that is not a stage")
        topic = inputs(group)[0]
    name, gid = _topic_name(s, topic), _group(s, group)
    if to == "datetime" and at is None:
        raise click.UsageError("--to datetime needs --datetime")

    async def go() -> dict[int, int]:
        async with KafkaAdmin.connect(s) as admin:
            if execute and await admin.group_members(gid):
                raise click.ClickException(
                    f"group {gid} has live members: stop the {group} replicas first "
                    "(scale to 0), then reset"
                )
            before = (await admin.lag(gid, name)).committed
            target = await admin.target_offsets(name, to, at)
            for p, off in sorted(target.items()):
                click.echo(f"{gid} {name}[{p}]: {before.get(p, '-')} -> {off}")
            if execute:
                await admin.commit(gid, name, target)
            return target

    _run(go())
    click.echo("offsets committed" if execute else "dry run: add --execute to commit")
