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
    from services.offline.quality import (
        by_axis,
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
    every = list(in_english)
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
        every += judged_all
    for name, sets in (("English fixtures", in_english), ("all fixtures", every)):
        for axis, (n, right, wrong) in by_axis(sets).items():
            click.echo(
                f"frame axis {axis} ({name}): set aside {n} candidate events; articles left "
                f"without an alert: {right} labelled no-alert (right), {wrong} escalations (wrong)"
            )
    if no_real:
        return
    if not corpora.exists():
        click.echo(f"real text: {corpora} not found, skipped")
        return
    _per_article(chain, corpora, misses)
    t0 = time.perf_counter()
    rates = real_text(chain, corpora, part, limit)
    click.echo(
        f"sentences and items of real text ({part} half, dev splits, "
        f"{time.perf_counter() - t0:.0f} s): share alerting"
    )
    for source, r in rates.items():
        click.echo(f"  {source:24} {r.line()}")
        for ex in r.examples if misses else ():
            click.echo(f"      e.g. {ex}")


def _per_article(chain: object, corpora: Path, misses: bool) -> None:
    """The per-article table: false-alert rates per source and half, the severity of AG world
    alerts, precision on the hand-labelled AG world alerts and what each frame axis silenced."""
    from services.offline.articles import HALVES, per_article, severity_line
    from services.offline.chain import Chain

    assert isinstance(chain, Chain)
    t0 = time.perf_counter()
    rep = per_article(chain, corpora)
    click.echo(
        f"per article (real text, {time.perf_counter() - t0:.0f} s): share of articles alerting, "
        "tune half (dev) | report half (test)"
    )
    for source in sorted({s for s, _ in rep.rates}):
        cells = [rep.rates.get((source, h)) for h in HALVES]
        click.echo(f"  {source:14} " + " | ".join(f"{c.line() if c else '-':18}" for c in cells))
        tune = cells[0]
        for ex in tune.examples if misses and tune else ():  # never the report half's
            click.echo(f"      e.g. {ex}")
    for h in HALVES:
        world = rep.rates.get(("ag-world", h))
        if world:
            click.echo(f"  ag-world {h} alerts by severity: {severity_line(world)}")
    for h, p in sorted(rep.precision.items(), key=lambda kv: HALVES.index(kv[0])):
        click.echo(f"  ag-world {h} labelled alerts: {p.line()}")
        for w in p.wrong if misses and h == "tune" else ():
            click.echo(f"      wrong: {w}")
    for axis, (n, right, wrong) in sorted(rep.axes.items()):
        click.echo(
            f"  frame axis {axis}: silenced {n} labelled AG world alerts, {right} rightly, "
            f"{wrong} wrongly"
        )
