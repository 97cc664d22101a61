"""`newswire` command line: the imperative shell around the services, one module per command
group (as faust's `cli/`): stack, run, ingest, subscribe, tail, dlq, topics, status, deploy,
schemas, rules, eval, model, demo, bench."""

from __future__ import annotations

import click

from services.cli import (
    bench,
    demo,
    deploy,
    dlq,
    ingest,
    rules,
    run,
    schemas,
    status,
    subscribe,
    tail,
    topics,
)
from services.cli import eval as eval_cli
from services.cli import model as model_cli
from services.cli import stack as stack_cli
from services.cli.shell import _settings
from services.common import logging as nlog


@click.group()
def main() -> None:
    """newswire: watch news for escalation (Kafka -> enrichment -> tagging -> alerts -> Redis)."""
    nlog.setup(_settings().log_level, _settings().log_format)


for command in (
    stack_cli.stack,
    stack_cli.health,
    topics.topics,
    run.run,
    run.up,
    ingest.replay,
    ingest.feeds,
    subscribe.subscribe,
    subscribe.subscriptions,
    tail.tail,
    dlq.dlq,
    schemas.schemas_export,
    rules.rules,
    rules.analyze,
    eval_cli.eval_command,
    model_cli.model,
    demo.demo,
    status.status,
    deploy.deploy,
    bench.bench,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
