"""`rose-cart orders list|show|refund` and `rose-cart inbox log`: the admin pages' views
of orders and of the inbox, for scripts (--json) and terminals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

import inbox.log
from cart.admin import queries
from cart.orders.models import ShopOrder, order_id_from_number
from cart.orders.orders import OrderNotFound, get_order, order_detail
from cart.orders.refunds import REFUNDABLE, NotRefundable, RefundAsk, request_refund
from cart.orders.states import OrderStatus
from service.cli_audit import audit_cli
from service.settings import Settings
from store import Database, upgrade, utcnow
from store.exceptions import IllegalTransition
from vocab.money import parse_amount
from vocab.numbers import parse_natural

T = TypeVar("T")


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            await upgrade(db.engine)
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, default=str, indent=2))
    else:
        text()


def register_commands(main: click.Group) -> None:
    main.add_command(orders)
    main.add_command(inbox_group)


def _summary(order: ShopOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "total": str(order.total_amount),
        "currency": order.currency,
        "shop": order.page_name,
        "placed_at": order.created_at,
        "flag": order.flag,
    }


@click.group()
def orders() -> None:
    """Orders: search, look at one, refund one."""


@orders.command("list")
@click.option("--number", default="", help="An order number (RA-000123).")
@click.option(
    "--status",
    default="",
    type=click.Choice(["", *[s.value for s in OrderStatus]]),
    help="Only orders in this status.",
)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def orders_list(settings: Settings, number: str, status: str, limit: int, as_json: bool) -> None:
    """Orders, newest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        found = await session.run_sync(queries.search_orders, number, status, limit=limit)
        return [_summary(order) for order in found]

    listed = _in_transaction(settings, work)

    def text() -> None:
        if not listed:
            click.echo("no orders match")
        for o in listed:
            click.echo(
                f"{o['number']}  {o['placed_at']:%Y-%m-%d %H:%M}  {o['status']:<16} "
                f"{o['total']:>9} {o['currency']}  {o['shop']}"
            )

    _emit(listed, as_json, text)


async def _order(session: AsyncSession, number: str) -> ShopOrder:
    order_id = order_id_from_number(number.strip().upper())
    if order_id is None:
        raise OrderNotFound()
    return await get_order(session, order_id)


@orders.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def orders_show(settings: Settings, number: str, as_json: bool) -> None:
    """One order: items and status history."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        detail = await order_detail(session, await _order(session, number))
        return {
            **_summary(detail.order),
            "transaction_id": detail.order.transaction_id,
            "items": [
                {
                    "name": i.name,
                    "quantity": i.quantity,
                    "unit": str(i.unit_amount),
                    "kind": i.kind,
                    "claim": i.claim_state,
                }
                for i in detail.items
            ],
            "history": [{"status": h.status, "at": h.at, "note": h.note} for h in detail.history],
        }

    try:
        shown = _in_transaction(settings, work)
    except OrderNotFound as error:
        raise click.ClickException(f"no order {number}") from error

    def text() -> None:
        click.echo(f"{shown['number']}  {shown['status']}  {shown['total']} {shown['currency']}")
        if shown["flag"]:
            click.echo(f"flag: {shown['flag']}")
        for item in shown["items"]:
            click.echo(f"  {item['quantity']} x {item['name']} at {item['unit']}")
        for change in shown["history"]:
            note = change["note"] or ""
            click.echo(f"  {change['at']:%Y-%m-%d %H:%M}  {change['status']}  {note}")

    _emit(shown, as_json, text)


def _amount(text: str | None) -> Decimal | None:
    amount = parse_amount(text.strip().lstrip("£")) if text is not None else None
    if text is not None and amount is None:
        raise click.BadParameter(f"{text[:40]!r}: write an amount like 12.50")
    return amount


def _line(text: str) -> tuple[int, int]:
    position, _, quantity = text.partition("=")
    line, count = parse_natural(position), parse_natural(quantity)
    if line is None or count is None or len(text) > 16:
        raise click.BadParameter(f"{text!r}: write LINE=QUANTITY, e.g. 2=1")
    return line, count


@orders.command("refund")
@click.argument("number")
@click.option(
    "--line", "lines", multiple=True, metavar="LINE=QTY", help="Refund QTY of line LINE (from 1)."
)
@click.option(
    "--amount",
    callback=lambda _context, _option, text: _amount(text),
    help="Refund this amount instead of whole lines.",
)
@click.option("--reason", default="", help="Why; the shopper reads it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def orders_refund(
    settings: Settings,
    number: str,
    lines: tuple[str, ...],
    amount: Decimal | None,
    reason: str,
    yes: bool,
) -> None:
    """Refund a paid order, in full or some lines or an amount: the running service's
    reconciler asks the payment provider."""
    ask = RefundAsk(reason=reason, lines=dict(_line(text) for text in lines), amount=amount)
    whole = not ask.lines and amount is None
    if not yes:
        what = "in full" if whole else "in part"
        click.confirm(f"Refund order {number} {what}? This cannot be undone", abort=True)

    async def work(session: AsyncSession) -> str:
        order = await _order(session, number)
        if order.status not in REFUNDABLE:
            raise NotRefundable(f"order {number} is {order.status}: only paid orders are refunded")
        giving = str(
            await request_refund(session, order.id, ask, by="the command line", now=utcnow())
        )
        await audit_cli(session, "refund", f"orders refund {number}")
        return giving

    try:
        giving = _in_transaction(settings, work)
    except OrderNotFound as error:
        raise click.ClickException(f"no order {number}") from error
    except (NotRefundable, IllegalTransition) as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"refund of {number} requested ({giving}); the service's payment reconciler "
        f"carries it out (see `rose-cart orders show {number}`)"
    )


@click.group("inbox")
def inbox_group() -> None:
    """What peers delivered to our inbox, and what became of it."""


@inbox_group.command("log")
@click.option(
    "--status",
    default="",
    type=click.Choice(["", *inbox.log.STATUSES]),
    help="Only activities in this status.",
)
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def inbox_log(settings: Settings, status: str, limit: int, as_json: bool) -> None:
    """Accepted inbox activities, newest first (rejected deliveries are never stored)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        rows = await session.run_sync(inbox.log.recent, status or None, limit=limit)
        return [
            {
                "id": a.ap_id,
                "actor": a.ap_actor_id,
                "type": a.activity_type,
                "object_type": a.object_type,
                "status": a.status,
                "attempts": a.attempts,
                "received_at": a.received_at,
                "last_error": a.last_error,
            }
            for a in rows
        ]

    listed = _in_transaction(settings, work)

    def text() -> None:
        if not listed:
            click.echo("nothing in the inbox log")
        for a in listed:
            kind = a["type"] + (f"({a['object_type']})" if a["object_type"] else "")
            click.echo(
                f"{a['received_at']:%Y-%m-%d %H:%M}  {a['status']:<8} {kind:<20} {a['actor']}"
                + (f"  {a['last_error']}" if a["last_error"] else "")
            )

    _emit(listed, as_json, text)
