"""`newswire dlq list|show|replay`: the dead-letter topic."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from services.cli.shell import _settings


@click.group()
def dlq() -> None:
    """Inspect the dead-letter topic and re-inject records after a fix."""


def _dlq_entries() -> list[Any]:
    from services.ops.dlq import read_all

    return asyncio.run(read_all(_settings()))


@dlq.command("list")
@click.option("--stage", default=None, help="Only this stage (enrichment, tagging, alerts).")
def dlq_list(stage: str | None) -> None:
    """One line per dead letter: partition@offset, stage, origin, attempts, error."""
    from services.ops.dlq import select

    entries = _dlq_entries()
    shown = select(entries, stage=stage)
    for ref, dl in shown:
        click.echo(
            f"{ref:>10} {dl.stage:<10} {dl.topic}[{dl.partition}]@{dl.offset} "
            f"attempts={dl.attempts} {dl.error_class}: {dl.error[:120]}"
        )
    unreadable = sum(1 for e in entries if e.letter is None)
    click.echo(
        f"{len(shown)} dead letter(s)" + (f", {unreadable} unreadable" if unreadable else "")
    )


@dlq.command("show")
@click.argument("ref")
def dlq_show(ref: str) -> None:
    """The whole dead letter at REF (partition@offset), with the original value decoded."""
    import base64

    from services.ops.dlq import select

    found = select(_dlq_entries(), refs=[ref])
    if not found:
        raise click.ClickException(f"no dead letter at {ref} (see `newswire dlq list`)")
    dl = found[0][1]
    click.echo(dl.model_dump_json(indent=2))
    click.echo("original value:")
    click.echo(base64.b64decode(dl.value).decode("utf-8", "replace"))


@dlq.command("replay")
@click.argument("refs", nargs=-1)
@click.option("--stage", default=None, help="Only dead letters of this stage.")
@click.option("--error-class", default=None, help="Only dead letters with this error class.")
@click.option("--all", "everything", is_flag=True, help="Every dead letter (when no REFS).")
@click.option("--force", is_flag=True, help="Also those that reached dlq_max_attempts.")
@click.option("--dry-run", is_flag=True, help="Print what would be sent, send nothing.")
def dlq_replay(
    refs: tuple[str, ...],
    stage: str | None,
    error_class: str | None,
    everything: bool,
    force: bool,
    dry_run: bool,
) -> None:
    """Send dead letters back to their original topic (marked with newswire.replayed)."""
    from services.ops.dlq import plan, reinject, select

    if not (refs or stage or error_class or everything):
        raise click.UsageError("name REFS (partition@offset), --stage, --error-class or --all")
    s = _settings()
    chosen = select(_dlq_entries(), refs=refs, stage=stage, error_class=error_class)
    todo = plan(chosen, s.dlq_max_attempts, force=force)
    for r in todo:
        click.echo(f"{'would replay' if dry_run else 'replaying'} {r.source} -> {r.topic}")
    held = len(chosen) - len(todo)
    if not dry_run and todo:
        asyncio.run(reinject(s, todo))
    click.echo(
        f"{len(todo)} record(s) {'to replay' if dry_run else 'replayed'}"
        + (f", {held} held back at {s.dlq_max_attempts} attempts (--force)" if held else "")
    )
