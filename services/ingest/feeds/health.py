"""Feed health, pure: the state kept per feed, how a poll changes it, when to poll next, when to alarm.

Broken feeds are the most common silent failure of a news monitor, so every poll leaves a trace
(last success, last error, consecutive failures, new items per day) and a feed that fails repeatedly
or stops producing raises an operational alert once per incident.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from services.common.redact import mask_url, mask_urls
from services.common.retrying import Backoff

DAYS_KEPT = 7
MAX_BACKOFF_S = 3600.0
FAILURES_TO_ALARM = 3

Problem = Literal["failing", "stale"]


class FeedConfig(BaseModel):
    url: str
    interval_s: float = Field(300.0, gt=0)
    stale_after_s: float = Field(
        2 * 24 * 3600.0, gt=0, description="No new item for this long: the feed stopped producing."
    )
    added_at: datetime


def feed_key(url: str) -> str:
    """A feed's id: its Redis keys, metrics label and name in messages (URLs carry API keys)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def feed_name(url: str) -> str:
    """How a message names a feed: its id and its URL masked (`mask_url`)."""
    return f"{feed_key(url)} ({mask_url(url)})"


class FeedState(BaseModel):
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_new_item: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    polls: int = 0
    not_modified: int = 0
    items_total: int = 0
    daily: dict[str, int] = Field(default_factory=dict, description="New items per UTC day.")
    next_poll: datetime | None = None
    alarm: Problem | None = Field(None, description="The open incident, if any.")


def backoff_s(interval_s: float, failures: int) -> float:
    """Interval, doubled per consecutive failure, at most an hour (or the interval if longer):
    the project's one retry policy, without jitter so the schedule shown is the one kept."""
    if failures <= 0:
        return interval_s
    policy = Backoff(base_s=interval_s, cap_s=max(MAX_BACKOFF_S, interval_s), jitter=0.0)
    return policy.delay(min(failures, 20) + 1)


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def _recent_days(daily: dict[str, int], now: datetime) -> dict[str, int]:
    oldest = _day(now - timedelta(days=DAYS_KEPT - 1))
    return {d: n for d, n in daily.items() if d >= oldest}


def after_success(
    cfg: FeedConfig,
    st: FeedState,
    now: datetime,
    new_items: int,
    *,
    etag: str | None,
    last_modified: str | None,
    not_modified: bool = False,
) -> FeedState:
    daily = _recent_days(st.daily, now)
    if new_items:
        daily[_day(now)] = daily.get(_day(now), 0) + new_items
    return st.model_copy(
        update={
            "etag": etag if not not_modified else st.etag,
            "last_modified": last_modified if not not_modified else st.last_modified,
            "last_poll": now,
            "last_success": now,
            "last_new_item": now if new_items else st.last_new_item,
            "consecutive_failures": 0,
            "polls": st.polls + 1,
            "not_modified": st.not_modified + int(not_modified),
            "items_total": st.items_total + new_items,
            "daily": daily,
            "next_poll": now + timedelta(seconds=cfg.interval_s),
        }
    )


def after_failure(cfg: FeedConfig, st: FeedState, now: datetime, error: str) -> FeedState:
    failures = st.consecutive_failures + 1
    return st.model_copy(
        update={
            "last_poll": now,
            "last_error": mask_urls(error)[:500],
            "last_error_at": now,
            "consecutive_failures": failures,
            "polls": st.polls + 1,
            "daily": _recent_days(st.daily, now),
            "next_poll": now + timedelta(seconds=backoff_s(cfg.interval_s, failures)),
        }
    )


def items_per_day(cfg: FeedConfig, st: FeedState, now: datetime) -> float:
    """Mean new items per day over the last week (or since the feed was added, if later)."""
    days = min(DAYS_KEPT, max(1, (now - cfg.added_at).days + 1))
    return sum(_recent_days(st.daily, now).values()) / days


def problem(cfg: FeedConfig, st: FeedState, now: datetime) -> Problem | None:
    if st.consecutive_failures >= FAILURES_TO_ALARM:
        return "failing"
    since = st.last_new_item or cfg.added_at
    if now - since > timedelta(seconds=cfg.stale_after_s):
        return "stale"
    return None


def describe_problem(cfg: FeedConfig, st: FeedState, kind: Problem | None, now: datetime) -> str:
    if kind == "failing":
        return (
            f"feed {feed_name(cfg.url)} failed {st.consecutive_failures} polls in a row: "
            f"{st.last_error}"
        )
    if kind == "stale":
        since = st.last_new_item or cfg.added_at
        hours = (now - since).total_seconds() / 3600
        return f"feed {feed_name(cfg.url)} produced no new item for {hours:.1f} h"
    return f"feed {feed_name(cfg.url)} recovered"


def summary(cfg: FeedConfig, st: FeedState, now: datetime) -> dict[str, object]:
    """The status row shown by `newswire feeds status`."""
    return {
        "id": feed_key(cfg.url),
        "url": mask_url(cfg.url),
        "interval_s": cfg.interval_s,
        "status": problem(cfg, st, now) or ("ok" if st.last_success else "pending"),
        "last_success": st.last_success.isoformat() if st.last_success else None,
        "last_error": st.last_error,
        "last_error_at": st.last_error_at.isoformat() if st.last_error_at else None,
        "consecutive_failures": st.consecutive_failures,
        "items_per_day": round(items_per_day(cfg, st, now), 2),
        "items_total": st.items_total,
        "polls": st.polls,
        "not_modified": st.not_modified,
        "next_poll": st.next_poll.isoformat() if st.next_poll else None,
    }
