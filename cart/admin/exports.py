"""Downloads for the people who pack and hand over: the orders as CSV, and a packing list.

`/admin/orders.csv` takes the same search as the orders page. `/admin/packing.csv?page=KEY`
lists, for one shop or venue, every paid order's lines with the customer to hand them
to, one row per line, sorted by customer: what a volunteer prints on market morning.
Cells that a spreadsheet would run as a formula (= + - @ at the start) are defused with
a leading apostrophe (OWASP's advice on CSV injection); names come from shoppers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.routing import Route

from cart.admin import queries
from cart.admin.access import admin_page
from cart.money import Money
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.orders.orders import total_of
from cart.orders.states import OrderStatus
from cart.web.visit import Visit

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 5000


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def download(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@admin_page
async def orders_csv(visit: Visit) -> Response:
    params = visit.request.query_params
    found = await visit.session.run_sync(
        queries.search_orders, params.get("q", "")[:320], params.get("status", "")[:24], MAX_ROWS
    )
    header = [
        "number",
        "placed_utc",
        "shop",
        "customer",
        "email",
        "phone",
        "status",
        "total",
        "currency",
        "paid_utc",
        "payment_reference",
    ]
    rows = (
        [
            o.number,
            o.created_at.isoformat(),
            o.page_name,
            o.contact_name,
            o.contact_email,
            o.contact_phone,
            o.status,
            total_of(o).plain(),
            o.currency,
            o.paid_at.isoformat() if o.paid_at else "",
            o.transaction_id or o.checkout_id,
        ]
        for o in found
    )
    return download(as_csv(header, rows), "orders.csv")


def packing_lines(session: Session, page_key: str) -> list[tuple[ShopOrder, ShopOrderItem]]:
    """A unit: every paid order's lines for one shop or venue, by customer."""
    query = (
        select(ShopOrder, ShopOrderItem)
        .join(ShopOrderItem, ShopOrderItem.order_id == ShopOrder.id)
        .where(ShopOrder.page_key == page_key, ShopOrder.status == OrderStatus.PAID.value)
        .order_by(ShopOrder.contact_name, ShopOrder.id, ShopOrderItem.position)
        .limit(MAX_ROWS)
    )
    return [(order, item) for order, item in session.execute(query).all()]


@admin_page
async def packing_csv(visit: Visit) -> Response:
    page_key = visit.request.query_params.get("page", "")[:40]
    pairs = await visit.session.run_sync(packing_lines, page_key)
    header = ["customer", "email", "phone", "order", "item", "when", "quantity", "line_total"]
    rows = (
        [
            order.contact_name,
            order.contact_email,
            order.contact_phone,
            order.number,
            item.name,
            item.start_time.isoformat() if item.start_time else "",
            item.quantity,
            (Money(item.unit_amount, item.currency) * item.quantity).plain(),
        ]
        for order, item in pairs
    )
    return download(as_csv(header, rows), f"packing-{page_key or 'none'}.csv")


def export_routes() -> list[Route]:
    return [
        Route("/admin/orders.csv", orders_csv, methods=["GET"]),
        Route("/admin/packing.csv", packing_csv, methods=["GET"]),
    ]
