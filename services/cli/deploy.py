"""`newswire deploy render`: the Kubernetes files derived from the repository's data."""

from __future__ import annotations

import click


@click.group("deploy")
def deploy() -> None:
    """Deployment files derived from the repository."""


@deploy.command("render")
def deploy_render() -> None:
    """Write the k8s config ConfigMaps (rules, taxonomy, gazetteer) and the Strimzi KafkaTopics."""
    from services.ops.deploy import write

    for p in write():
        click.echo(str(p))
