"""Takings per day for the dashboard: what paid orders brought in, per currency.

Counted by the day the payment arrived (in the shop's zone would be nicer; days are
UTC here like the dashboard's charts), for orders still paid: a refunded order is no
takings. Amounts are Decimal text in the database, so they are summed here as Money,
never as floats in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cart.money import Money, sum_by_currency
from cart.orders.models import ShopOrder
from cart.orders.states import OrderStatus

TAKINGS_DAYS = 14


def takings_per_day(
    session: Session, today: date, days: int = TAKINGS_DAYS
) -> list[tuple[date, tuple[Money, ...]]]:
    """Newest day first; a day with no takings has an empty tuple."""
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    rows = session.execute(
        select(ShopOrder.paid_at, ShopOrder.total_amount, ShopOrder.currency).where(
            ShopOrder.status == OrderStatus.PAID.value, ShopOrder.paid_at >= start
        )
    )
    by_day: dict[date, list[Money]] = {}
    for paid_at, amount, currency in rows.all():
        if paid_at is not None:
            by_day.setdefault(paid_at.astimezone(UTC).date(), []).append(Money(amount, currency))
    return [
        (day, sum_by_currency(by_day.get(day, ())))
        for day in (today - timedelta(days=n) for n in range(days))
    ]
