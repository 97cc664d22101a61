"""`newswire deploy render|secrets|check`: the files derived from the repository, the deployments'
secrets (generated, never printed) and the check that refuses placeholders."""

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


TARGETS = click.Choice(["compose", "dev", "prod"])


@deploy.command("secrets")
@click.argument("target", type=TARGETS)
def deploy_secrets(target: str) -> None:
    """Write random secrets for TARGET (compose: .env; dev, prod: the overlay's secrets.env), keeping
    the good ones already there. The values are never printed: read the file (mode 0600)."""
    from services.ops.deploy import check, write_secrets

    path, made = write_secrets(target)
    click.echo(f"{path}: generated {', '.join(made) or 'nothing (all set)'}")
    try:
        problems = check(target)
    except RuntimeError as exc:  # kubectl missing or the overlay does not render
        problems = [str(exc)]
    for problem in problems:
        click.echo(f"still to do: {problem}", err=True)


@deploy.command("check")
@click.argument("target", type=TARGETS)
def deploy_check(target: str) -> None:
    """Exit 1 when TARGET's secrets are missing, empty or placeholders such as `change-me`."""
    from services.ops.deploy import check

    try:
        problems = check(target)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    if problems:
        raise click.ClickException("; ".join(problems))
    click.echo(f"{target}: secrets set, no placeholders")
