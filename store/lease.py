"""Claiming due rows under a lease: how every worker takes work from a table.

A worker takes due rows by leasing them in one committed statement: `UPDATE … SET
lease_token = <new token>, lease_until = now + lease WHERE id IN (SELECT id … due …
AND lease free or expired … LIMIT n FOR UPDATE SKIP LOCKED) RETURNING …`. On PostgreSQL
concurrent workers skip each other's locked rows and so take disjoint batches; SQLite
ignores the locking clause and runs the statement under its one write lock. A lease
that ran out (its worker died or hung) makes the row due again: another worker takes
it over, so work is never lost, only perhaps done twice, which is why every outcome is
written conditionally on the token still being ours (`held_by`).

The inbox, the delivery queue, catalogue backfills and refunds all claim this way;
their tables carry the two columns through the `Leased` mixin. The statements are
built here and executed by the caller, in a unit of work (a sync session).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, String, Update, bindparam, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import UTCDateTime

# SELECT … FOR UPDATE SKIP LOCKED LIMIT n: PostgreSQL's way to hand concurrent workers
# disjoint rows (https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE).


class Leased:
    """The lease columns: who holds the row (a token per claim) and until when."""

    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Lease:
    token: str
    until: datetime


def new_lease(now: datetime, length: timedelta) -> Lease:
    return Lease(uuid.uuid4().hex, now + length)


def free(model: Any, now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Nobody holds the row, or its holder's lease ran out (takeover)."""
    return or_(model.lease_until.is_(None), model.lease_until < now)


def held_by(model: Any, token: str) -> ColumnElement[bool]:
    """The row is still leased to us: the condition on every outcome we write."""
    return model.lease_token == token  # type: ignore[no-any-return]


RELEASED: Mapping[str, None] = {"lease_token": None, "lease_until": None}


def claim_statement(
    model: Any,
    lease: Lease,
    *,
    now: datetime,
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    returning: Sequence[Any],
    values: Mapping[str, Any] | None = None,
) -> Update:
    """Lease up to `limit` rows that are `due` and free, in `order_by` order.

    `values` are set along with the lease (an attempt counter, say); the statement
    returns the `returning` columns of each row it leased.
    """
    return _claim(model, lease.token, lease.until, now, due, order_by, limit, returning, values)


# The lease and the time of a claim built once and run at every round (`claim_template`).
NOW: BindParameter[datetime] = bindparam("claim_now", type_=UTCDateTime())
_TOKEN: BindParameter[str] = bindparam("claim_token", type_=String(32))
_UNTIL: BindParameter[datetime] = bindparam("claim_until", type_=UTCDateTime())


def claim_template(
    model: Any,
    *,
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    returning: Sequence[Any],
    values: Mapping[str, Any] | None = None,
) -> Update:
    """`claim_statement` with the lease and the time left as parameters (`due` names the
    time as `NOW`), run with `claim_parameters`: a worker that claims many times a second
    builds it once, where building the statement cost more than running it."""
    return _claim(model, _TOKEN, _UNTIL, NOW, due, order_by, limit, returning, values)


def claim_parameters(lease: Lease, now: datetime) -> dict[str, Any]:
    """The values of `claim_template`'s parameters for this lease, at `now`."""
    return {NOW.key: now, _TOKEN.key: lease.token, _UNTIL.key: lease.until}


def _claim(
    model: Any,
    token: Any,
    until: Any,
    now: Any,
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    returning: Sequence[Any],
    values: Mapping[str, Any] | None,
) -> Update:
    (key,) = model.__mapper__.primary_key
    chosen = (
        select(key)
        .where(*due, free(model, now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        update(model)
        .where(key.in_(chosen.scalar_subquery()))
        .values(lease_token=token, lease_until=until, **(values or {}))
        .returning(*returning)
        .execution_options(synchronize_session=False)
    )


def claim(
    session: Session,
    model: Any,
    *,
    now: datetime,
    length: timedelta,
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    returning: Sequence[Any],
    values: Mapping[str, Any] | None = None,
) -> tuple[Lease, list[Any]]:
    """Run `claim_statement` under a new lease of `length`, in a unit of work (store/units.py)
    that commits it before the work is done; (the lease, the `returning` rows)."""
    lease = new_lease(now, length)
    statement = claim_statement(
        model,
        lease,
        now=now,
        due=due,
        order_by=order_by,
        limit=limit,
        returning=returning,
        values=values,
    )
    return lease, list(session.execute(statement).all())


def extend_statement(model: Any, token: str, until: datetime) -> Update:
    """Push out the lease of the rows still held under `token` (finished rows hold none)."""
    return (
        update(model)
        .where(held_by(model, token))
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
