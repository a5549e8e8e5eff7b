"""Throttles in the database: how often a key (an account, a client address, a cart) may
do something costly, seen alike by every process.

Anything an anonymous client can drive over and over (a password guess, a registration,
an order) is counted here, so N web processes behind a load balancer share one budget and
a restart forgets nothing. One row per counted event (``throttle_hits``): a bucket and a
time. Every function here is a unit of work (``fn(session, ...)``, store/units.py) or a
step inside one. A check reads at most ``limit`` rows of one bucket through the (bucket, at) index;
the answer is how long to wait until the oldest of them leaves the window (the
``Retry-After``), or None. Callers check before the costly work and record after it, and
never record a refused attempt, so a bucket holds at most ``limit`` rows per window.

Buckets name the key only by a digest: e-mail and IP addresses are never stored. The
clean-up loop deletes hits older than ``RETENTION`` (longer than any window).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Index, Integer, String, Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store import direct
from store.base import Base, UTCDateTime

RETENTION = timedelta(days=1)  # every Quota's window must be shorter
BUCKET_LENGTH = 64


class ThrottleHit(Base):
    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(BUCKET_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class Quota:
    """At most ``limit`` counted events per ``window`` for each key of this ``name``; with
    ``burst``, also at most ``burst`` of them within any ``burst_window`` (the same rows,
    read once: a budget spent a little at a time rather than all at once)."""

    name: str
    limit: int
    window: timedelta
    burst: int = 0  # 0: the whole limit may be spent at once
    burst_window: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.limit < 1 or not timedelta(0) < self.window < RETENTION:
            raise ValueError(f"quota {self.name}: limit >= 1 and a window under {RETENTION}")
        if self.burst and not (
            0 < self.burst < self.limit and timedelta(0) < self.burst_window < self.window
        ):
            raise ValueError(f"quota {self.name}: a burst under the limit, in a shorter window")

    def free_at(self, recent: list[datetime], now: datetime) -> datetime | None:
        """When the next event may be counted, given the bucket's newest ``limit`` events
        inside the window (newest first); None when it may be counted at ``now``."""
        if len(recent) >= self.limit:
            return recent[self.limit - 1] + self.window
        if self.burst and len(recent) >= self.burst:
            until = recent[self.burst - 1] + self.burst_window
            if until > now:
                return until
        return None

    def bucket(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.name}:{digest}"[:BUCKET_LENGTH]


class Throttled(Exception):
    """Over a quota until ``until`` (when its oldest counted event leaves the window): try
    again in ``retry_after`` seconds (whole, at least 1) from ``now``."""

    def __init__(self, quota: Quota, until: datetime, now: datetime) -> None:
        self.quota = quota
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        super().__init__(f"over the {quota.name} quota; retry after {self.retry_after} s")


Check = tuple[Quota, str]


MAX_REFUSALS = 20_000  # buckets remembered as over their quota, per process (~3 MB at most)


class Refusals:
    """Buckets this process has seen over their quota, each until it frees a slot."""

    def __init__(self, size: int = MAX_REFUSALS) -> None:
        self.size = size
        self._until: OrderedDict[str, datetime] = OrderedDict()

    def over(self, checks: Iterable[Check], now: datetime) -> Throttled | None:
        """The refusal a remembered bucket among ``checks`` still gives at ``now``, or None."""
        for quota, key in checks:
            bucket = quota.bucket(key)
            until = self._until.get(bucket)
            if until is None:
                continue
            if until <= now:
                del self._until[bucket]
                continue
            return Throttled(quota, until, now)
        return None

    def remember(self, over: Throttled, checks: Iterable[Check]) -> None:
        for quota, key in checks:
            if quota == over.quota:
                bucket = quota.bucket(key)
                self._until[bucket] = over.until
                self._until.move_to_end(bucket)
                if len(self._until) > self.size:
                    self._until.popitem(last=False)  # the one remembered longest ago


_HITS = cast(Table, ThrottleHit.__table__)
# Core, built once per process: checkout and every form with a quota run these.
_RECENT = (
    select(_HITS.c.at)
    .where(_HITS.c.bucket == bindparam("bucket"), _HITS.c.at > bindparam("since"))
    .order_by(_HITS.c.at.desc())
    .limit(bindparam("limit"))
)
_NEW_HITS = insert(_HITS)


def wait_for(session: Session, checks: Iterable[Check], now: datetime) -> Throttled | None:
    """The longest wait any of ``checks`` (quota, key) asks for, or None if all are free."""
    moment = now
    worst: Throttled | None = None
    for quota, key in checks:
        bound = {"bucket": quota.bucket(key), "since": moment - quota.window, "limit": quota.limit}
        recent = [hit.at for hit in direct.fields(session, _RECENT, bound)]
        until = quota.free_at(recent, moment)
        if until is None:
            continue
        over = Throttled(quota, until, moment)
        if worst is None or over.retry_after > worst.retry_after:
            worst = over
    return worst


def check(session: Session, checks: Iterable[Check], now: datetime) -> None:
    """Raise Throttled when any of ``checks`` is over its quota."""
    over = wait_for(session, checks, now)
    if over is not None:
        raise over


def record(session: Session, checks: Iterable[Check], now: datetime) -> None:
    """Count one event against each of ``checks``."""
    moment = now
    rows = [{"bucket": quota.bucket(key), "at": moment} for quota, key in checks]
    direct.executemany(session, _NEW_HITS, rows)


def take(session: Session, checks: Iterable[Check], now: datetime) -> Throttled | None:
    """A unit: count one event against each of ``checks`` if all are free; else the wait
    (and nothing counted)."""
    over = wait_for(session, checks, now)
    if over is None:
        record(session, checks, now)
    return over


def forget(session: Session, checks: Iterable[Check]) -> None:
    """Drop the counted events of ``checks`` (a successful login clears its failures)."""
    buckets = [quota.bucket(key) for quota, key in checks]
    if buckets:
        session.execute(delete(ThrottleHit).where(ThrottleHit.bucket.in_(buckets)))


def purge_throttle_hits(
    session: Session, older_than: timedelta = RETENTION, *, now: datetime
) -> int:
    """The retention rule: delete hits older than every window; returns how many."""
    cutoff = now - older_than
    result = session.execute(delete(ThrottleHit).where(ThrottleHit.at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_hits(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ThrottleHit)) or 0)
