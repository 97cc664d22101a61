"""An experiment for issue 20: enrichment and tagging in one worker process (`newswire bench --fused`).

The deployed pipeline runs them as two stages with a Kafka hop between them; this worker runs
`enrich` then `tag` on each raw record in one `Stage`, publishing both the enriched record (the
feed's topic, unchanged) and the tagged one, and commits the raw offset once both are durable. What
it saves is one consumer group's fetch, decode and faust stream per article, and one process; the
bench measures how much that is. It is not a deployment layout: supervision, health ports and
`newswire up` know only the topology's stages. Run as a child process of the bench:
`python -m services.bench.fused`.
"""

from __future__ import annotations

import sys
from typing import Any

# the process's name in the bench report; its consumer group is <prefix>-annotate
SERVICE = "annotate"
REPLACES = ("enrichment", "tagging")  # the topology's stages it stands in for


def services(names: tuple[str, ...]) -> tuple[str, ...]:
    """The bench's process list with the fused worker in place of each enrichment replica, and no
    tagging."""
    first, second = REPLACES
    return tuple(SERVICE if name == first else name for name in names if name != second)


def build() -> Any:
    from schemas import EnrichedArticle, RawArticle, TaggedArticle
    from services.common.settings import get_settings
    from services.common.topics import Topics
    from services.common.worker import Stage, make_app
    from services.enrichment.core import enrich, warm_up
    from services.tagging.core import tag
    from services.text.taxonomy import load_taxonomy

    settings = get_settings()
    topics = Topics.from_settings(settings)
    taxonomy = load_taxonomy(settings.taxonomy_file)
    warm_up()

    def compute(value: bytes) -> list[EnrichedArticle | TaggedArticle]:
        enriched = enrich(RawArticle.model_validate_json(value))
        return [enriched, tag(enriched, taxonomy)]

    app = make_app(SERVICE, settings)
    Stage(
        app=app,
        settings=settings,
        name=SERVICE,
        source=topics.raw,
        sink=topics.tagged,
        side_topics={EnrichedArticle: topics.enriched},
        compute=compute,
    )
    return app


def command(name: str) -> list[str]:
    """The command line of a bench process: this worker for `annotate`, else the stage's own."""
    from services.devstack.supervise import service_command

    if name == SERVICE:
        return [sys.executable, "-m", "services.bench.fused"]
    return service_command(name)


def main() -> None:
    from services.common.worker import run_worker

    run_worker(build(), loglevel="warning")


if __name__ == "__main__":
    main()
