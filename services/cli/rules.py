"""`newswire rules check|backtest` and `newswire analyze`: the detector without a broker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from services.cli.shell import _settings


@click.group()
def rules() -> None:
    """Alert rules: validate a rules file, or backtest it over archived articles."""


def _load_rules_or_fail(path: Path) -> list[Any]:
    from services.alerts.rules import RuleError, load_rules

    try:
        return load_rules(path)
    except RuleError as exc:
        for p in exc.problems:
            click.echo(p, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in {path}") from exc


@rules.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def rules_check(file: Path) -> None:
    """Validate FILE; each problem is printed as file:line: field: message."""
    loaded = _load_rules_or_fail(file)
    click.echo(f"{file}: ok, {len(loaded)} rule(s): {', '.join(r.id for r in loaded)}")


@rules.command("backtest")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line, then no summary.")
@click.option("--quiet", is_flag=True, help="Only the summary.")
def rules_backtest(file: Path, paths: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """Run the rules in FILE over archived articles (PATH... or - for stdin) and report what would fire."""
    from services.alerts.core import matching_rules
    from services.offline.analyze import Backtest, Result, read_inputs, run

    loaded = _load_rules_or_fail(file)
    report = Backtest()
    for r in run(read_inputs(list(paths)), loaded):
        if not isinstance(r, Result):
            report.skipped += 1
            where = f"{r.path}:{r.line}" if r.line else str(r.path)
            click.echo(f"skipped {where}: {r.error}", err=True)
            continue
        report.add(r, matching_rules(r.tagged, loaded))
        for a in r.alerts:
            if as_json:
                click.echo(a.model_dump_json())
            elif not quiet:
                click.echo(
                    f"[{a.severity}] {a.rule_id:22} story {a.story_id} "
                    f"article {a.article_id}: {a.title[:80]}"
                )
    if not as_json:
        for line in report.summary(loaded):
            click.echo(line)


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "pretty"]), default="jsonl")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Rules file (default: the configured one).",
)
@click.option(
    "--independent",
    is_flag=True,
    help="Judge each article on its own (no stories: every matching rule alerts), for evaluation.",
)
def analyze(paths: tuple[str, ...], fmt: str, rules_file: Path | None, independent: bool) -> None:
    """enrich -> tag -> evaluate PATH... (or - for stdin) with no broker: one line per article, in order."""
    from services.offline.analyze import Result, analyze_record, pretty, read_inputs, run
    from services.text.taxonomy import load_taxonomy

    s = _settings()
    loaded = _load_rules_or_fail(rules_file or s.rules_file)
    taxonomy = load_taxonomy(s.taxonomy_file)
    for r in run(read_inputs(list(paths)), loaded, taxonomy=taxonomy, independent=independent):
        if not isinstance(r, Result):
            where = f"{r.path}:{r.line}" if r.line else str(r.path)
            click.echo(f"skipped {where}: {r.error}", err=True)
        elif fmt == "jsonl":
            click.echo(json.dumps(analyze_record(r), ensure_ascii=False))
        else:
            click.echo(pretty(r))
