"""Downloads for the people who pack and hand over: the orders as CSV (the packing lists,
per page and slot, are cart.admin.packing's, through the same helpers).

`/admin/orders.csv` takes the same search as the orders page.
Cells that a spreadsheet would run as a formula (= + - @ at the start) are defused with
a leading apostrophe (OWASP's advice on CSV injection); names come from shoppers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from starlette.responses import Response
from starlette.routing import Route

from cart.admin import queries
from cart.admin.access import admin_page
from cart.orders.orders import total_of
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


# A file name made of what the operator's query asked for (a page key, a slot) goes into a
# header: anything but these characters (an accent, a CR LF, a NUL, a quote) would answer
# 500 or end the connection unanswered, so it becomes "-".
_NOT_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def download(body: str, filename: str) -> Response:
    safe = _NOT_IN_FILE_NAMES.sub("-", filename)[:120]
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
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


def export_routes() -> list[Route]:
    return [
        Route("/admin/orders.csv", orders_csv, methods=["GET"]),
    ]
