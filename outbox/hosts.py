"""Per-host health, kept in the database so that every worker process agrees.

A row exists only for a host that has failed: success on a host with no row costs
nothing. The breaker (see schedule.py for its timings) is `open_until`; a host whose
failures have gone unbroken for 7 days gets `unavailable_since`, its pending
deliveries are held, and new ones are held as they come up, until `mark_contacted`
(the inbox calls it when that origin sends us a verified request) releases them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from actor.origin import origin_of
from outbox.models import DeliveryHost, OutboxDelivery
from outbox.schedule import UNAVAILABLE_AFTER, breaker_open_for
from outbox.states import DeliveryState
from store import direct


def blocked_hosts(now: datetime) -> ColumnElement[bool]:
    """A condition on OutboxDelivery: its host is neither broken-open nor unavailable."""
    blocked = select(DeliveryHost.host).where(
        or_(DeliveryHost.open_until > now, DeliveryHost.unavailable_since.is_not(None))
    )
    return or_(OutboxDelivery.host.is_(None), OutboxDelivery.host.not_in(blocked))


def host_failures(session: Session, hosts: Iterable[str]) -> dict[str, int]:
    wanted = list(set(hosts))
    if not wanted:
        return {}
    rows = session.execute(
        select(DeliveryHost.host, DeliveryHost.consecutive_failures).where(
            DeliveryHost.host.in_(wanted)
        )
    )
    return {host: count for host, count in rows.all()}


def record_successes(session: Session, hosts: Iterable[str], now: datetime) -> None:
    """Close the breaker of every host that answered (any answer but a retryable one)."""
    wanted = list(set(hosts))
    for start in range(0, len(wanted), 500):
        session.execute(
            update(DeliveryHost)
            .where(DeliveryHost.host.in_(wanted[start : start + 500]))
            .values(
                consecutive_failures=0, failing_since=None, open_until=None, last_success_at=now
            )
            .execution_options(synchronize_session=False)
        )


def _insert(session: Session) -> object:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(DeliveryHost)


def record_failures(session: Session, failures: dict[str, int], now: datetime) -> list[str]:
    """Count failures per host; open breakers; returns the hosts now marked unavailable."""
    newly_unavailable: list[str] = []
    for host, count in sorted(failures.items()):  # one lock order for every worker
        insert = _insert(session)
        session.execute(
            insert.values(host=host, consecutive_failures=0).on_conflict_do_nothing(  # type: ignore[attr-defined]
                index_elements=["host"]
            )
        )
        row = session.execute(
            select(DeliveryHost).where(DeliveryHost.host == host).with_for_update()
        ).scalar_one()
        row.consecutive_failures += count
        row.failing_since = row.failing_since or now
        opened = breaker_open_for(row.consecutive_failures)
        row.open_until = now + opened if opened is not None else None
        if row.unavailable_since is None and now - row.failing_since >= UNAVAILABLE_AFTER:
            row.unavailable_since = now
            newly_unavailable.append(host)
    if newly_unavailable:
        hold_deliveries(session, newly_unavailable)
    return newly_unavailable


def hold_deliveries(session: Session, hosts: list[str]) -> int:
    """Park the pending deliveries of unavailable hosts (not leased ones: their worker decides)."""
    result = session.execute(
        update(OutboxDelivery)
        .where(
            OutboxDelivery.host.in_(hosts),
            OutboxDelivery.status == DeliveryState.PENDING,
            OutboxDelivery.lease_token.is_(None),
        )
        .values(status=DeliveryState.HELD)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


_KNOWN_HOSTS = select(DeliveryHost.host).where(
    DeliveryHost.host.in_(bindparam("hosts", expanding=True))
)


def mark_all_contacted(session: Session, origins: Sequence[str], *, now: datetime) -> int:
    """`mark_contacted` for each host of `origins` we deliver to: one read for all of
    them, so the inbox worker tells it a batch's senders at once."""
    hosts = list(dict.fromkeys(origin_of(origin) for origin in origins))
    # Once per inbox batch: through store/direct.py, the ORM's execution of this one read
    # cost ~2 % of the serving process's CPU under bench/federation.
    known = [host for (host,) in direct.rows(session, _KNOWN_HOSTS, {"hosts": hosts})]
    return sum(mark_contacted(session, host, now=now) for host in known)


def hold_for_unavailable_hosts(session: Session) -> int:
    """Hold deliveries published since their host was marked unavailable."""
    hosts = list(
        session.execute(
            select(DeliveryHost.host).where(DeliveryHost.unavailable_since.is_not(None))
        ).scalars()
    )
    return hold_deliveries(session, hosts) if hosts else 0


def mark_contacted(session: Session, origin: str, *, now: datetime) -> int:
    """`origin` (or any URL on it) talked to us: forget its failures, release held deliveries.

    Cheap when there is nothing to do (one indexed read), so the inbox may call it for
    every verified delivery. Returns how many deliveries were released.
    """
    host = origin_of(origin)
    row = session.get(DeliveryHost, host)
    if row is None:
        return 0
    row.consecutive_failures = 0
    row.failing_since = row.open_until = row.unavailable_since = None
    row.last_success_at = now
    released = session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.host == host, OutboxDelivery.status == DeliveryState.HELD)
        .values(status=DeliveryState.PENDING, next_attempt_at=now, retry_from=now)
        .execution_options(synchronize_session=False)
    )
    return int(released.rowcount)  # type: ignore[attr-defined]
