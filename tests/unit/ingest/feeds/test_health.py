"""Feed health transitions: backoff, items per day, failing and stale alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.ingest.feeds.health import (
    FAILURES_TO_ALARM,
    FeedConfig,
    FeedState,
    after_failure,
    after_success,
    backoff_s,
    items_per_day,
    problem,
    summary,
)

T0 = datetime(2024, 11, 19, 12, 0, tzinfo=UTC)
CFG = FeedConfig(url="http://f.test/rss", interval_s=60, stale_after_s=3600, added_at=T0)


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff_s(60, 0) == 60
    assert backoff_s(60, 1) == 120
    assert backoff_s(60, 3) == 480
    assert backoff_s(60, 30) == 3600
    assert backoff_s(7200, 5) == 7200  # never shorter than the interval


def test_failures_back_off_then_alarm_then_recover() -> None:
    st = FeedState()
    for n in range(1, FAILURES_TO_ALARM + 1):
        st = after_failure(CFG, st, T0, "HTTP 500")
        assert st.consecutive_failures == n
        assert st.next_poll == T0 + timedelta(seconds=backoff_s(60, n))
    assert problem(CFG, st, T0) == "failing"
    st = after_success(CFG, st, T0, 2, etag='"e1"', last_modified=None)
    assert st.consecutive_failures == 0 and st.last_error == "HTTP 500"
    assert problem(CFG, st, T0) is None
    assert st.etag == '"e1"'


def test_not_modified_keeps_validators() -> None:
    st = after_success(CFG, FeedState(), T0, 1, etag='"e1"', last_modified="Tue")
    st = after_success(CFG, st, T0, 0, etag=None, last_modified=None, not_modified=True)
    assert (st.etag, st.last_modified, st.not_modified, st.polls) == ('"e1"', "Tue", 1, 2)


def test_stale_when_no_new_item_for_too_long() -> None:
    st = after_success(CFG, FeedState(), T0, 3, etag=None, last_modified=None)
    later = T0 + timedelta(hours=2)
    st = after_success(CFG, st, later, 0, etag=None, last_modified=None)
    assert problem(CFG, st, later) == "stale"
    assert summary(CFG, st, later)["status"] == "stale"


def test_items_per_day_over_the_week() -> None:
    st = FeedState()
    for day in range(3):
        st = after_success(CFG, st, T0 + timedelta(days=day), 10, etag=None, last_modified=None)
    assert items_per_day(CFG, st, T0 + timedelta(days=2)) == 10.0
    old = T0 + timedelta(days=20)
    assert items_per_day(CFG, st, old) == 0.0
