"""Checkout: turn one page cart into an order, in one transaction, exactly once.

`place_order` locks the page cart's checkout-token row first (the statement is a
write, so on SQLite it also takes the database's write lock before anything is read;
on PostgreSQL the row lock serialises two tabs of one cart), then locks the lines,
checks every line against the catalogue mirror as it is now, and refuses the whole
checkout when any line of that page has a problem: the shopper is told which and why
(`CheckoutProblem.problems`), and nothing changes. Otherwise it creates the order with a
frozen snapshot of each item and the shopper's pickup or delivery (checked against what
the page offers now, its fee added to the total: cart.orders.handover), detaches the
lines, and publishes `Create(Order)` in the same transaction.

The checkout token names one "generation" of a page cart. The same token, a double
submit, a second tab or a retry all find the order already placed instead of placing a
second one; once the shopper puts new things in that page cart, the next checkout
starts a new generation.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from cart.basket.carts import CartOwner
from cart.basket.lines import detach_lines_sync
from cart.basket.reading import view_cart_sync
from cart.basket.totals import LineView, PageCart
from cart.exceptions import CartError
from cart.money import Money, sum_by_currency
from cart.orders.contact import Contact, queue_order_mail
from cart.orders.handover import HandoverAsked, HandoverProblem, keep, settle
from cart.orders.models import CheckoutToken, PlacedLine, ShopOrder, ShopOrderItem
from cart.orders.moves import record
from cart.orders.orders import announce_created_sync
from cart.orders.states import ClaimState, OrderStatus
from cart.orders.stock import short_lines
from store import direct

PAYMENT_WINDOW = timedelta(minutes=30)  # SumUp checkout valid_until, and our expiry
# A tab submitted this long after its page cart was checked out is shown that order, while
# it still waits for payment (a paid or void one is history, not this checkout's answer).
REPEAT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Problem:
    """One reason the page cart cannot be checked out, for the shopper."""

    message: str
    line_id: int | None = None
    name: str | None = None


class CheckoutProblem(CartError):
    """The page cart cannot be checked out as it is; `problems` says what to fix."""

    default_message = "Your order could not be placed. Please check your cart."

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        details = " ".join(f"{p.name}: {p.message}" if p.name else p.message for p in self.problems)
        super().__init__(f"{self.default_message} {details}".strip())


@dataclass(frozen=True)
class PlacedOrder:
    order: ShopOrder
    created: bool  # False: this checkout was placed before (double submit, second tab)


def owner_key(owner: CartOwner) -> str:
    return f"c:{owner.cart_id}" if owner.cart_id is not None else f"a:{owner.account_id}"


def new_checkout_token() -> str:
    return secrets.token_urlsafe(24)


TOKENS = cast(Table, CheckoutToken.__table__)
ORDERS = cast(Table, ShopOrder.__table__)
ORDER_ITEMS = cast(Table, ShopOrderItem.__table__)
# Built once per process (the checkout's statements are Core: no ORM flush, no loads).
_NEW_TOKEN = {
    "postgresql": postgresql.insert(TOKENS).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(TOKENS).on_conflict_do_nothing(),
}
_TOKEN_ROW = (
    select(TOKENS.c.token, TOKENS.c.order_id)
    .where(TOKENS.c.owner_key == bindparam("key"), TOKENS.c.page_key == bindparam("page"))
    .with_for_update()
)
_SET_TOKEN = (
    update(TOKENS)
    .where(TOKENS.c.owner_key == bindparam("key"), TOKENS.c.page_key == bindparam("page"))
    .values(token=bindparam("new_token"), order_id=bindparam("new_order"))
)
_ORDER_OF_TOKEN = select(ORDERS.c.id, ORDERS.c.cart_id, ORDERS.c.account_id).where(
    ORDERS.c.checkout_token == bindparam("token")
)
_NEW_ORDER = insert(ORDERS).returning(ORDERS.c.id)
_NEW_ITEMS = insert(ORDER_ITEMS)
# Every column a new order is given (the rest keep their defaults: NULL).
_ORDER_COLUMNS = tuple(c.key for c in ORDERS.columns if c.key != "id")


@dataclass(frozen=True)
class _TokenRow:
    """The page cart's checkout-token row, locked for this transaction."""

    token: str
    order_id: int | None


def _lock_token_row(
    session: Session, owner: CartOwner, page_key: str, token: str, now: datetime
) -> _TokenRow:
    where = {"key": owner_key(owner), "page": page_key}
    insert_token = _NEW_TOKEN[session.get_bind().dialect.name]
    for candidate in (token, new_checkout_token()):
        # A write first: on SQLite this takes the write lock before anything is read.
        # (The second round covers a submitted token that another cart holds.)
        direct.execute(
            session,
            insert_token,
            {
                "owner_key": where["key"],
                "page_key": page_key,
                "token": candidate,
                "order_id": None,
                "created_at": now,
            },
        )
        row = direct.first(session, _TOKEN_ROW, where)
        if row is not None:
            return _TokenRow(*row)
    raise AssertionError("the checkout token row was neither there nor inserted")


def _set_token(
    session: Session, owner: CartOwner, page_key: str, token: str, order_id: int | None
) -> None:
    direct.execute(
        session,
        _SET_TOKEN,
        {"key": owner_key(owner), "page": page_key, "new_token": token, "new_order": order_id},
    )


def checkout_token_for_sync(
    session: Session, owner: CartOwner, page_key: str, *, now: datetime
) -> str:
    """The token to put in this page cart's checkout form (or use when a form has none).

    Stable while the page cart is not checked out; a new one once it has been and new
    lines are in it.
    """
    moment = now
    row = _lock_token_row(session, owner, page_key, new_checkout_token(), moment)
    if row.order_id is not None:
        view = view_cart_sync(session, owner, now=moment)
        page = view.page(page_key)
        if page is not None and page.lines:
            fresh = new_checkout_token()
            session.execute(
                update(TOKENS)
                .where(TOKENS.c.owner_key == owner_key(owner), TOKENS.c.page_key == page_key)
                .values(token=fresh, order_id=None, created_at=moment)
            )
            return fresh
    return row.token


async def checkout_token_for(
    session: AsyncSession, owner: CartOwner, page_key: str, *, now: datetime
) -> str:
    """`checkout_token_for_sync` in an async session."""
    return await session.run_sync(
        lambda sync: checkout_token_for_sync(sync, owner, page_key, now=now)
    )


def _problems(page: PageCart) -> list[Problem]:
    problems = [
        Problem(line.message or "Please check this line.", line.id, line.item.name)
        for line in page.problem_lines
    ]
    problems += [
        Problem(
            f"{line.item.name} is priced at {line.current_price.plain()} "
            f"{line.current_price.currency}, finer than the currency allows, so it cannot be "
            "charged. Remove it to check out the rest.",
            line.id,
            line.item.name,
        )
        for line in page.ok_lines
        if line.current_price.finer_than_its_currency()
    ]
    if not problems and len(sum_by_currency(line.line_total for line in page.lines)) > 1:
        problems.append(
            Problem("Items priced in different currencies cannot be paid for together.")
        )
    return problems


def place_order(
    session: Session,
    owner: CartOwner,
    page_key: str,
    checkout_token: str,
    local_actor: LocalActor,
    *,
    now: datetime,
    payment_window: timedelta = PAYMENT_WINDOW,
    contact: Contact | None = None,
    handover: HandoverAsked | None = None,
) -> PlacedOrder:
    """Place the order for one page cart, or find the one this checkout already placed.

    `checkout_token`: the form's, or "" when it had none (then the page cart's current
    one, as `checkout_token_for_sync` gives it, is used). Raises CheckoutProblem (nothing
    changed) when the page cart is empty or any of its lines is stale or unavailable.
    Never commits: the caller's unit of work does. A unit function: `await
    db.write(place_order, ...)` runs it whole on the database's thread, in one hop
    (`await session.run_sync(place_order, ...)` inside an async transaction).
    """
    moment = now
    if not checkout_token:  # the form had none: as if it had this page cart's own
        row = _lock_token_row(session, owner, page_key, new_checkout_token(), moment)
        if row.order_id is not None:  # checked out before: a repeat, or new lines since
            checkout_token = checkout_token_for_sync(session, owner, page_key, now=moment)
            row = _lock_token_row(session, owner, page_key, checkout_token, moment)
        else:  # the usual path: one lock, and no order holds a token its row has not kept
            checkout_token = row.token
    else:
        if len(checkout_token) > 64:
            checkout_token = new_checkout_token()
        row = _lock_token_row(session, owner, page_key, checkout_token, moment)
    earlier = None
    if row.order_id is not None or row.token != checkout_token:
        earlier = direct.first(session, _ORDER_OF_TOKEN, {"token": checkout_token})
    if earlier is not None and _owned(earlier[1], earlier[2], owner):
        # A repeat submit (not the hot path): the order placed before, loaded whole.
        return PlacedOrder(session.get_one(ShopOrder, earlier[0]), created=False)

    view = view_cart_sync(session, owner, now=moment, lock=True)
    page = view.page(page_key)
    if page is None or not page.lines:
        if row.order_id is not None:
            previous = session.get(ShopOrder, row.order_id)
            if (
                previous is not None
                and previous.status == OrderStatus.PENDING.value
                and moment - previous.created_at < REPEAT_WINDOW
            ):
                return PlacedOrder(previous, created=False)
        raise CheckoutProblem([Problem("There is nothing in this cart to check out.")])
    problems = _problems(page)
    if not problems:
        problems = [_short(line, left) for line, left in short_lines(session, page.lines, moment)]
    if problems:
        raise CheckoutProblem(problems)
    choice, address = None, None
    if handover is not None:  # checked against what the page offers now; fee from there
        currency = page.lines[0].item.price.currency  # one currency: _problems checked
        try:
            choice, address = settle(session, handover, page_key, currency, moment)
        except HandoverProblem as problem:
            raise CheckoutProblem([Problem(str(problem))]) from None

    token = row.token if row.order_id is None else new_checkout_token()
    order = _new_order(owner, page, token, local_actor, moment, payment_window)
    if contact is not None:
        order.contact_name, order.contact_email = contact.name, contact.email
        order.contact_phone = contact.phone
    keep(order, choice, address)
    # The order is a plain object: its row goes in through Core and it gets the new id.
    order.id = direct.scalar(
        session, _NEW_ORDER, {name: getattr(order, name) for name in _ORDER_COLUMNS}
    )
    rows = [
        {
            "order_id": order.id,
            "position": position,
            "item_ap_id": line.item.ap_id,
            "ap_actor_id": line.item.ap_actor_id,
            "kind": line.item.kind,
            "name": line.item.name,
            "unit_amount": line.item.price.amount,
            "currency": line.item.price.currency,
            "quantity": line.quantity,
            "claim_state": ClaimState.REQUESTED.value,
            "start_time": line.item.start_time,
            "time_zone": line.item.time_zone,
        }
        for position, line in enumerate(page.lines)
    ]
    direct.executemany(session, _NEW_ITEMS, rows)
    _set_token(session, owner, page_key, order.checkout_token, order.id)
    record(session, order.id, OrderStatus.PENDING.value, "Order placed", moment)
    queue_order_mail(session, order, "order.placed", moment)
    detach_lines_sync(session, owner, [line.id for line in page.lines])
    items = [
        PlacedLine(
            line.item.ap_id,
            line.item.ap_actor_id,
            line.item.name,
            line.item.price.amount,
            line.item.price.currency,
            line.quantity,
        )
        for line in page.lines
    ]
    announce_created_sync(session, order, items, local_actor, moment)
    return PlacedOrder(order, created=True)


def _short(line: LineView, left: int) -> Problem:
    if left == 0:
        message = "Sold out: the last ones have just been ordered. Remove it to check out the rest."
    else:
        message = f"Only {left} left now: please lower the quantity to {left}."
    return Problem(message, line.id, line.item.name)


def _owned(cart_id: str | None, account_id: int | None, owner: CartOwner) -> bool:
    """Whether an order of this cart or account is the owner's."""
    if owner.cart_id is not None:
        return cart_id == owner.cart_id
    return account_id == owner.account_id


def _new_order(
    owner: CartOwner,
    page: PageCart,
    token: str,
    local_actor: LocalActor,
    now: datetime,
    payment_window: timedelta,
) -> ShopOrder:
    (total,) = sum_by_currency(line.item.price * line.quantity for line in page.lines)
    public_id = uuid.uuid4().hex
    return ShopOrder(
        public_id=public_id,
        ap_id=f"{local_actor.base_url}/orders/{public_id}",
        cart_id=owner.cart_id,
        account_id=owner.account_id,
        page_key=page.key,
        page_ap_id=page.page.ap_id if page.page is not None else None,
        page_name=page.name,
        page_url=page.page.url if page.page is not None else None,
        status=OrderStatus.PENDING.value,
        currency=total.currency,
        total_amount=Money(total.amount, total.currency).quantized(),
        checkout_token=token,
        valid_until=now + payment_window,
        refund_attempts=0,
        created_at=now,
        updated_at=now,
    )
