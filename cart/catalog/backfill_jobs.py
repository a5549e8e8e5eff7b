"""Catalogue backfills as durable jobs.

A peer's Accept of our Follow arrives in an inbox handler, inside the worker's
transaction, where no network I/O may happen. So the handler only records a job in
that same transaction; a worker loop claims due jobs with a lease, runs the backfill
(signed, paged GETs of the peer's `catalog`), and records the outcome. A job that fails
or stops early is retried with backoff; one whose worker died is taken over when its
lease ends. Nothing is lost between the Accept and the mirror being filled.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

import httpx
from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from actor.fetch import Fetcher
from cart.catalog.backfill import BackfillReport, Progress, backfill_catalog
from store import Base, Clock, Database, utcnow, wake
from store.base import UTCDateTime
from store.lease import Leased, claim

log = logging.getLogger("rose_cart.cart.catalog.backfill")
LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
BACKFILL_CHANNEL = "backfills"  # fired when a job is requested (store/wakeups.py)


class CatalogBackfill(Leased, Base):
    __tablename__ = "catalog_backfills"

    ap_actor_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    report: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


def request_backfill(session: Session, actor_iri: str, role: str | None, *, now: datetime) -> None:
    """In the caller's transaction: (re)fill the mirror from this peer's catalogue."""
    wake(session, BACKFILL_CHANNEL)
    job = session.get(CatalogBackfill, actor_iri)
    if job is None:
        session.add(
            CatalogBackfill(
                ap_actor_id=actor_iri, role=role, requested_at=now, due_at=now, attempts=0
            )
        )
        return
    job.role, job.requested_at, job.due_at = role, now, now
    job.finished_at = job.last_error = None
    job.attempts = 0


def _retry_after(attempts: int) -> timedelta:
    return min(MAX_RETRY, FIRST_RETRY * int(2 ** max(0, attempts - 1)))


class BackfillRunner:
    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        auth: httpx.Auth | None,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.db, self.fetcher, self.auth, self.clock = db, fetcher, auth, clock

    async def step(self, progress: Progress | None = None) -> BackfillReport | None:
        """Run one due backfill, if any; returns its report. The claim and the outcome
        are units of work (store/units.py); the paged GETs run between them."""
        job = await self.db.write(_claim, self.clock())
        if job is None:
            return None
        report = await backfill_catalog(
            self.db, self.fetcher, self.auth, job.ap_actor_id, role=job.role, progress=progress
        )
        await self.db.write(_record, job, report, self.clock())
        log.info(
            "catalogue backfill " + ("done" if report.complete else "incomplete; will retry"),
            # not "created": LogRecord has an attribute of that name already
            extra={
                "peer": job.ap_actor_id,
                "items_created": report.created,
                "items_updated": report.updated,
            },
        )
        return report


def _claim(session: Session, now: datetime) -> CatalogBackfill | None:
    """A unit: lease the job due first, if any (a detached row: its actor, role,
    attempts and our lease's token)."""
    lease, rows = claim(
        session,
        CatalogBackfill,
        now=now,
        length=LEASE,
        due=[CatalogBackfill.finished_at.is_(None), CatalogBackfill.due_at <= now],
        order_by=[CatalogBackfill.due_at],
        limit=1,
        returning=[CatalogBackfill.ap_actor_id, CatalogBackfill.role, CatalogBackfill.attempts],
        values={"attempts": CatalogBackfill.attempts + 1},
    )
    if not rows:
        return None
    ((actor, role, attempts),) = rows
    return CatalogBackfill(ap_actor_id=actor, role=role, attempts=attempts, lease_token=lease.token)


def _record(session: Session, job: CatalogBackfill, report: BackfillReport, now: datetime) -> None:
    """A unit: the job's outcome, only while the lease is ours (a worker that took over
    owns the outcome)."""
    row = session.get(CatalogBackfill, job.ap_actor_id)
    if row is None or row.lease_token != job.lease_token:
        return
    row.lease_token = row.lease_until = None
    row.report = asdict(report)
    if report.complete:
        row.finished_at, row.last_error = now, None
    else:
        row.due_at = now + _retry_after(job.attempts)
        row.last_error = report.error or "stopped early"
