"""`newswire schemas`: the JSON Schemas and the AsyncAPI document, regenerated."""

from __future__ import annotations

import click


@click.command("schemas")
def schemas_export() -> None:
    """Write the JSON Schema of every event (schemas/json/) and the AsyncAPI document."""
    from schemas.export import write
    from services.ops.asyncapi import write as write_asyncapi

    for p in [*write(), write_asyncapi()]:
        click.echo(str(p))
