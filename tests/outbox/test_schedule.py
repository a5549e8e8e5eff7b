"""The pure parts: what an answer means, when to retry, and the declared state machines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outbox.schedule import (
    RETRY_WINDOW,
    Outcome,
    backoff,
    breaker_open_for,
    classify,
    next_attempt,
    parse_retry_after,
)
from outbox.states import DELIVERIES, FOLLOWERS
from store.exceptions import IllegalTransition
from store.states import StateMachine

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DONE),
        (202, Outcome.DONE),
        (204, Outcome.DONE),
        (None, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (410, Outcome.GONE),
        (301, Outcome.DEAD),
        (400, Outcome.DEAD),
        (401, Outcome.DEAD),
        (403, Outcome.DEAD),
        (404, Outcome.DEAD),
        (422, Outcome.DEAD),
    ],
)
def test_each_answer_has_one_meaning(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_jitter_only_ever_delays_and_by_at_most_a_quarter() -> None:
    early = next_attempt(failed_attempts=3, created_at=NOW, now=NOW, rand=lambda: 0.0)
    late = next_attempt(failed_attempts=3, created_at=NOW, now=NOW, rand=lambda: 0.999)
    assert early == NOW + backoff(3) == NOW + timedelta(minutes=4)
    assert late is not None and NOW + backoff(3) < late < NOW + backoff(3) * 1.25


def test_retry_after_pushes_later_but_never_earlier_and_counts_against_the_window() -> None:
    asked = parse_retry_after("120", NOW)
    assert next_attempt(
        failed_attempts=1, created_at=NOW, now=NOW, retry_after=asked, rand=lambda: 0.0
    ) == NOW + timedelta(seconds=120)
    short = parse_retry_after("1", NOW)
    assert next_attempt(
        failed_attempts=4, created_at=NOW, now=NOW, retry_after=short, rand=lambda: 0.0
    ) == NOW + backoff(4)
    too_far = parse_retry_after("Fri, 04 Dec 2026 10:00:00 GMT", NOW)
    assert too_far == timedelta(days=10)
    assert next_attempt(failed_attempts=1, created_at=NOW, now=NOW, retry_after=too_far) is None
    assert parse_retry_after("soon", NOW) is None


def test_nothing_is_scheduled_past_the_72_hour_window() -> None:
    created = NOW - RETRY_WINDOW + timedelta(minutes=10)
    assert (
        next_attempt(failed_attempts=1, created_at=created, now=NOW, rand=lambda: 0.0) is not None
    )
    assert next_attempt(failed_attempts=6, created_at=created, now=NOW, rand=lambda: 0.0) is None


def test_the_breaker_waits_longer_each_time_up_to_an_hour() -> None:
    assert breaker_open_for(4) is None
    assert [breaker_open_for(n) for n in (5, 6, 7)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert breaker_open_for(50) == timedelta(hours=1)


def test_machines_refuse_undeclared_moves() -> None:
    assert FOLLOWERS.move("pending", "accepted") == "accepted"
    with pytest.raises(IllegalTransition):
        FOLLOWERS.move("rejected", "accepted")
    with pytest.raises(IllegalTransition):
        DELIVERIES.move("done", "pending")


def test_a_machine_with_an_unreachable_or_undeclared_state_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="unreachable"):
        StateMachine("m", "a", {"a": frozenset(), "b": frozenset({"a"})})
    with pytest.raises(ValueError, match="undeclared"):
        StateMachine("m", "a", {"a": frozenset({"z"})})
