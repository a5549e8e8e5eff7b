"""What the admin pages read: counts, per-day series, peers, hosts, the inbox log, orders.

Read-only, one query per question, each bounded (LIMIT or GROUP BY): the pages must
stay cheap when the queue holds a hundred thousand deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from actor.origin import origin_of
from actor.schemes import PeerSignatureScheme
from cart.orders.models import OrderStatusChange, ShopOrder, order_id_from_number
from cart.orders.states import OrderStatus
from inbox import log as inbox_log
from outbox.models import DeliveryHost, Follow, Follower, OutboxDelivery
from outbox.states import DeliveryState
from vocab.numbers import parse_natural

CHART_DAYS = 14
SCHEME_NAMES = {"cavage": "draft-cavage", "rfc9421": "RFC 9421"}


def _day(session: Session, column: InstrumentedAttribute[Any]) -> Any:
    # SQLite stores naive UTC text, where date() is the day; PostgreSQL casts.
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def per_day(
    session: Session,
    column: InstrumentedAttribute[Any],
    *,
    today: date,
    days: int = CHART_DAYS,
) -> list[tuple[date, int]]:
    """Rows created per UTC day over the last `days` days (zeros included), oldest first."""
    first = today - timedelta(days=days - 1)
    day = _day(session, column)
    rows = session.execute(
        select(day, func.count()).where(column >= _midnight(first)).group_by(day)
    )
    counts = {_as_date(d): int(n) for d, n in rows.all() if d is not None}
    days_shown = [first + timedelta(days=i) for i in range(days)]
    return [(day_, counts.get(day_, 0)) for day_ in days_shown]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Dashboard:
    orders: dict[str, int]
    deliveries: dict[str, int]
    inbox: dict[str, int]
    pending_follows: int
    followers: int
    orders_per_day: list[tuple[date, int]]
    deliveries_per_day: list[tuple[date, int]]


def _grouped(session: Session, column: InstrumentedAttribute[str]) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column))
    return {str(key): int(count) for key, count in rows.all()}


def dashboard(session: Session, today: date) -> Dashboard:
    deliveries = {state.value: 0 for state in DeliveryState}
    deliveries.update(_grouped(session, OutboxDelivery.status))
    inbox = inbox_log.counts_by_status(session)
    followers = _grouped(session, Follower.state)
    return Dashboard(
        orders=_grouped(session, ShopOrder.status),
        deliveries=deliveries,
        inbox=inbox,
        pending_follows=followers.get("pending", 0),
        followers=followers.get("accepted", 0),
        orders_per_day=per_day(session, ShopOrder.created_at, today=today),
        deliveries_per_day=per_day(session, OutboxDelivery.created_at, today=today),
    )


@dataclass(frozen=True)
class PeerRow:
    role: str
    actor_id: str
    follow_state: str  # our follow of them
    follower_state: str | None  # their follow of us
    last_contact: datetime | None
    scheme: str | None


def peers(session: Session, configured: Iterable[Any]) -> list[PeerRow]:
    """PEERS with where each stands: our follow, theirs, when we last heard, the scheme."""
    listed = [(str(p.role), str(p.actor_id)) for p in configured]
    iris = sorted({iri for _, iri in listed})
    origins = sorted({origin_of(iri) for iri in iris})
    follows = dict(
        (
            session.execute(
                select(Follow.ap_object_id, Follow.state).where(Follow.ap_object_id.in_(iris))
            )
        ).all()
    )
    followers = dict(
        (
            session.execute(
                select(Follower.ap_actor_id, Follower.state).where(Follower.ap_actor_id.in_(iris))
            )
        ).all()
    )
    heard = inbox_log.last_heard(session, iris)
    reached = dict(
        (
            session.execute(
                select(DeliveryHost.host, DeliveryHost.last_success_at).where(
                    DeliveryHost.host.in_(origins)
                )
            )
        ).all()
    )
    schemes = dict(
        (
            session.execute(
                select(PeerSignatureScheme.origin, PeerSignatureScheme.scheme).where(
                    PeerSignatureScheme.origin.in_(origins)
                )
            )
        ).all()
    )
    rows = []
    for role, iri in listed:
        origin = origin_of(iri)
        times = [t for t in (heard.get(iri), reached.get(origin)) if t is not None]
        rows.append(
            PeerRow(
                role=role,
                actor_id=iri,
                follow_state=follows.get(iri, "not sent"),
                follower_state=followers.get(iri),
                last_contact=max(times) if times else None,
                scheme=SCHEME_NAMES.get(schemes.get(origin, ""), schemes.get(origin)),
            )
        )
    return rows


def followers(session: Session, limit: int = 500) -> Sequence[Follower]:
    query = select(Follower).order_by(Follower.state, Follower.created_at.desc()).limit(limit)
    return (session.execute(query)).scalars().all()


@dataclass(frozen=True)
class HostRow:
    host: str
    pending: int
    held: int
    dead: int
    consecutive_failures: int
    open_until: datetime | None
    unavailable_since: datetime | None
    last_success_at: datetime | None

    def breaker(self, now: datetime) -> str:
        if self.unavailable_since is not None:
            return "unavailable"
        if self.open_until is not None and self.open_until > now:
            return "open (paused)"
        if self.consecutive_failures:
            return "failing"
        return "closed (healthy)"


def hosts(session: Session, limit: int = 200) -> list[HostRow]:
    """Every host with deliveries not done, or with breaker state, worst first."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(OutboxDelivery.host, OutboxDelivery.status, func.count())
        .where(OutboxDelivery.status != DeliveryState.DONE, OutboxDelivery.host.is_not(None))
        .group_by(OutboxDelivery.host, OutboxDelivery.status)
    )
    for host, status, count in rows.all():
        counts.setdefault(str(host), {})[str(status)] = int(count)
    states = {row.host: row for row in (session.execute(select(DeliveryHost))).scalars()}
    result = []
    for host in sorted(set(counts) | set(states)):
        state = states.get(host)
        by = counts.get(host, {})
        result.append(
            HostRow(
                host=host,
                pending=by.get(DeliveryState.PENDING, 0),
                held=by.get(DeliveryState.HELD, 0),
                dead=by.get(DeliveryState.DEAD, 0),
                consecutive_failures=state.consecutive_failures if state else 0,
                open_until=state.open_until if state else None,
                unavailable_since=state.unavailable_since if state else None,
                last_success_at=state.last_success_at if state else None,
            )
        )
    result.sort(key=lambda h: (-(h.dead + h.held), -h.consecutive_failures, h.host))
    return result[:limit]


def search_orders(
    session: Session, text: str = "", status: str = "", limit: int = 50
) -> Sequence[ShopOrder]:
    """Orders by number (RA-000123 or 123), by the customer's e-mail (exact, any case) or
    name (a part of it, any case), and/or status; newest first."""
    query = select(ShopOrder).order_by(ShopOrder.id.desc()).limit(limit)
    text = text.strip()
    if text:
        upper = text.upper()
        number = parse_natural(text, max_digits=12)
        if upper.startswith("RA-") or number is not None:
            order_id = order_id_from_number(upper) if upper.startswith("RA-") else number
            if order_id is None:
                return []
            query = query.where(ShopOrder.id == order_id)
        elif "@" in text:
            query = query.where(func.lower(ShopOrder.contact_email) == text.lower())
        else:
            pattern = (
                "%"
                + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            query = query.where(func.lower(ShopOrder.contact_name).like(pattern, escape="\\"))
    if status:
        if status not in {s.value for s in OrderStatus}:
            return []
        query = query.where(ShopOrder.status == status)
    return (session.execute(query)).scalars().all()


def order_history(session: Session, order_id: int) -> Sequence[OrderStatusChange]:
    query = select(OrderStatusChange).where(OrderStatusChange.order_id == order_id)
    return (session.execute(query.order_by(OrderStatusChange.id))).scalars().all()
