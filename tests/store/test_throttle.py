"""The database throttle: a quota per key, a wait that says how long, a retention rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import Database
from store.throttle import (
    RETENTION,
    Quota,
    ThrottleHit,
    check,
    count_hits,
    forget,
    purge_throttle_hits,
    record,
    take,
    wait_for,
)
from tests.scale.test_metrics import samples

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GUESSES = Quota("test-guesses", 3, timedelta(minutes=10))
ADDRESS = Quota("test-address", 5, timedelta(minutes=1))


def _counts_per_key(session: Session) -> None:
    for minute in range(3):
        check(session, [(GUESSES, "ada@example.org")], NOW + timedelta(minutes=minute))
        record(session, [(GUESSES, "ada@example.org")], NOW + timedelta(minutes=minute))
    later = NOW + timedelta(minutes=4)
    over = wait_for(session, [(GUESSES, "ada@example.org")], later)
    assert over is not None and over.quota is GUESSES
    assert over.retry_after == 6 * 60  # the oldest hit leaves the window at minute 10
    assert wait_for(session, [(GUESSES, "bob@example.org")], later) is None
    assert wait_for(session, [(GUESSES, "ada@example.org")], NOW + GUESSES.window) is None
    # The longest wait of several checks is the answer.
    both = wait_for(session, [(ADDRESS, "1.2.3.4"), (GUESSES, "ada@example.org")], later)
    assert both is not None and both.quota is GUESSES


async def test_the_quota_counts_per_key_and_says_how_long_to_wait(db: Database) -> None:
    await db.write(_counts_per_key)


async def test_take_counts_only_an_attempt_within_every_quota(db: Database) -> None:
    checks = [(GUESSES, "ada@example.org"), (ADDRESS, "192.0.2.7")]
    for _ in range(GUESSES.limit):
        assert await db.write(take, checks, NOW) is None
    over = await db.write(take, checks, NOW)
    assert over is not None and over.quota is GUESSES
    assert await db.read(count_hits) == 2 * GUESSES.limit  # the refused one left no row


def _digests_and_forget(session: Session) -> None:
    record(session, [(GUESSES, "ada@example.org"), (ADDRESS, "192.0.2.7")], NOW)
    buckets = session.scalars(select(ThrottleHit.bucket)).all()
    assert all("ada" not in b and "192.0.2.7" not in b for b in buckets)
    assert all(len(b) <= 64 for b in buckets)
    forget(session, [(GUESSES, "ada@example.org")])
    assert count_hits(session) == 1


async def test_keys_are_kept_only_as_digests_and_forget_clears_one_key(db: Database) -> None:
    await db.write(_digests_and_forget)


def _purge(session: Session) -> None:
    record(session, [(GUESSES, "old")], NOW - RETENTION - timedelta(seconds=1))
    record(session, [(GUESSES, "recent")], NOW - timedelta(minutes=1))
    assert purge_throttle_hits(session, now=NOW) == 1
    assert count_hits(session) == 1


async def test_hits_older_than_every_window_are_purged(db: Database) -> None:
    await db.write(_purge)


SPREAD = Quota("test-spread", 5, timedelta(minutes=15), burst=3, burst_window=timedelta(minutes=5))


def _spent_a_little_at_a_time(session: Session) -> None:
    key = [(SPREAD, "ada@example.org")]
    for second in range(SPREAD.burst):
        assert take(session, key, NOW + timedelta(seconds=second)) is None
    soon = NOW + timedelta(seconds=10)
    over = take(session, key, soon)
    assert over is not None and over.quota is SPREAD
    # Free again when the burst's oldest leaves its window, long before the quarter hour.
    assert over.until == NOW + SPREAD.burst_window
    assert count_hits(session) == SPREAD.burst  # the refused one was not counted
    # Then one more each time a burst slot frees, up to the limit of the whole window...
    assert take(session, key, over.until) is None
    assert take(session, key, over.until + timedelta(seconds=1)) is None
    last = take(session, key, NOW + timedelta(minutes=11))
    assert last is not None and last.until == NOW + SPREAD.window
    # ...which waits for the window's oldest, as a quota without a burst does.
    assert take(session, key, NOW + SPREAD.window) is None


async def test_a_burst_spreads_the_quota_over_its_window(db: Database) -> None:
    await db.write(_spent_a_little_at_a_time)


def test_a_burst_must_be_smaller_than_its_quota() -> None:
    with pytest.raises(ValueError, match="burst"):
        Quota("all-at-once", 3, timedelta(minutes=10), burst=3, burst_window=timedelta(minutes=1))
    with pytest.raises(ValueError, match="burst"):
        Quota("wide", 3, timedelta(minutes=10), burst=2, burst_window=timedelta(minutes=10))


def test_a_quota_window_must_fit_the_retention() -> None:
    with pytest.raises(ValueError, match="window"):
        Quota("too-long", 1, RETENTION)


async def test_metrics_show_the_throttle_table(client: httpx.AsyncClient, db: Database) -> None:
    await db.write(record, [(GUESSES, "a"), (GUESSES, "b")], NOW)
    values = samples((await client.get("/metrics")).text)
    assert values["rose_cart_throttle_hits"] == 2
