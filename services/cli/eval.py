"""`newswire eval`: the detector's figures on hand-written fixtures and on real text (docs/quality.md)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from services.common.settings import CORPORA


@click.command("eval")
@click.option(
    "--half",
    "part",
    type=click.Choice(["report", "tune"]),
    default="report",
    help="Real text: the half only reported (default) or the half one may tune on.",
)
@click.option("--limit", type=int, default=2000, help="Real text: at most this many per source.")
@click.option("--corpora", type=click.Path(path_type=Path), default=CORPORA)
@click.option("--no-real", is_flag=True, help="Only the fixtures written here.")
@click.option("--misses", is_flag=True, help="List every miss and false alert.")
@click.option("--english", is_flag=True, help="English only (no multilingual fixtures).")
def eval_command(
    part: str, limit: int, corpora: Path, no_real: bool, misses: bool, english: bool
) -> None:
    """Precision, recall and F1 per event type and per language on the labelled fixtures; recall on
    real violent sentences and false alerts on cooperation, sport, business and tech news."""
    from services.offline.chain import Chain
    from services.offline.places_eval import report as places_report
    from services.offline.quality import (
        by_event_type,
        confusion,
        english_files,
        i18n_files,
        judge_file,
        real_text,
        score,
    )

    chain = Chain.load()
    types = [e.id for e in chain.taxonomy.events] if chain.taxonomy else []
    in_english = []
    for path in english_files():
        judged = judge_file(chain, path)
        in_english += judged
        m = score(judged)
        click.echo(f"{path.name} ({len(judged)} articles): {m.line()}")
        for line in m.misses if misses else ():
            click.echo(f"    {line}")
    click.echo(f"English fixtures, all: {score(in_english).line()}")
    click.echo("per event type (English fixtures):")
    for t, m in by_event_type(in_english, types).items():
        click.echo(f"  {t:20} {m.line()}")
    mixed = confusion(in_english, types)
    if mixed:
        click.echo(
            "confusion (labelled -> found): "
            + ", ".join(f"{a}->{b} {n}" for (a, b), n in mixed.most_common())
        )
    for split in () if english else ("dev", "test"):
        judged_all = []
        for path in i18n_files(split):
            judged = judge_file(chain, path)
            judged_all += judged
            m = score(judged)
            lang = path.name.split(".")[0]
            click.echo(f"{lang} {split} ({len(judged)}): {m.line()}")
            for line in m.misses if misses else ():
                click.echo(f"    {line}")
        if judged_all:
            click.echo(f"all languages, {split}: {score(judged_all).line()}")
    click.echo("\n".join(places_report(chain, misses)))
    if no_real:
        return
    if not corpora.exists():
        click.echo(f"real text: {corpora} not found, skipped")
        return
    t0 = time.perf_counter()
    rates = real_text(chain, corpora, part, limit)
    click.echo(
        f"real text ({part} half, dev splits, {time.perf_counter() - t0:.0f} s): share alerting"
    )
    for source, r in rates.items():
        click.echo(f"  {source:24} {r.line()}")
        for ex in r.examples if misses else ():
            click.echo(f"      e.g. {ex}")
