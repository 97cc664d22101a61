"""The one story decision and the engine's offline driving: `decide` leaves what it read alone."""

from __future__ import annotations

import asyncio

import pytest

from schemas import TaggedArticle
from services.alerts.core import propose, run_now
from services.alerts.stories import Rules, StoryRead, StoryView, decide, signature_of
from services.offline.analyze import tagged_from
from tests.unit.alerts.test_evaluate import RULES
from tests.unit.alerts.test_stories import OUTLETS


def _copies(n: int) -> list[TaggedArticle]:
    return [
        tagged_from(t, b, url=f"https://o{i}.example/x", published=f"2026-11-23T07:{i:02d}:00Z")
        for i, (t, b) in enumerate(OUTLETS[:n])
    ]


def test_decide_joins_a_copy_and_leaves_the_story_read_unchanged() -> None:
    first, second = (propose(t, RULES) for t in _copies(2))
    opened = decide(first.sig, first.proposed, StoryRead("0", []), Rules())
    assert opened.story.id == first.sig.article_id and opened.decisions
    stored = opened.story
    before = stored.copy()
    joined = decide(second.sig, second.proposed, StoryRead("1", [stored]), Rules())
    assert joined.story.id == stored.id and joined.story is not stored
    assert joined.story.articles == 2 and stored == before  # a lost race leaves nothing behind
    assert joined.decisions == []  # same rule, same severity: the story already alerted it


def test_a_redelivery_decides_what_the_article_raised_the_first_time() -> None:
    [p] = (propose(t, RULES) for t in _copies(1))
    opened = decide(p.sig, p.proposed, StoryRead("0", []), Rules())
    again = decide(p.sig, p.proposed, StoryRead("1", [], opened.story), Rules())
    assert again.redelivered and again.story is opened.story
    assert again.decisions == opened.decisions
    assert opened.story.articles == 1


def test_run_now_refuses_a_store_that_waits() -> None:
    async def waits() -> int:
        await asyncio.sleep(0)
        return 1

    async def does_not() -> int:
        return 2

    assert run_now(does_not()) == 2
    with pytest.raises(RuntimeError, match="suspended"):
        run_now(waits())


def test_a_story_copy_shares_no_container() -> None:
    story = StoryView.open(signature_of(_copies(1)[0]))
    twin = story.copy()
    twin.types.add("x")
    twin.history.append(("low", story.first_seen))
    assert "x" not in story.types and story.history == []
