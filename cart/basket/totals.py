"""Pure cart maths: each line checked against the mirror, page carts, totals per currency.

No I/O here: `reading.view_cart` loads the rows and the catalogue views and hands them to
`build_cart_view`. A line is checked on every view, never trusted from when it was
added; problems are data (`LineStatus` and a sentence for the shopper), not errors. Only
OK lines count towards a subtotal, and a subtotal never mixes currencies: a page selling
in two currencies has two.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cart.basket.carts import CartOwner
from cart.catalog.mirror import ItemView, PageView
from cart.money import Money, sum_by_currency

NO_PAGE_KEY = "other"  # page carts of items their peer gave no page (never a catalog key)
NO_PAGE_NAME = "Other items"


class LineStatus(enum.StrEnum):
    OK = "ok"
    PRICE_CHANGED = "price_changed"  # the shopper must accept the new price first
    INSUFFICIENT_STOCK = "insufficient_stock"  # fewer left than the line asks for
    UNAVAILABLE = "unavailable"  # not for sale now (sold out, entry taken or started)
    WITHDRAWN = "withdrawn"  # the peer deleted it


@dataclass(frozen=True)
class LineSnapshot:
    """A cart line as stored: what the shopper asked for and the price they saw."""

    id: int
    item_ap_id: str
    quantity: int
    unit_price: Money
    added_at: datetime


@dataclass(frozen=True)
class LineView:
    id: int
    item: ItemView  # the mirror now
    quantity: int
    unit_price: Money  # as added (or last accepted)
    status: LineStatus
    message: str | None  # for the shopper when status is not OK
    added_at: datetime

    @property
    def is_ok(self) -> bool:
        return self.status is LineStatus.OK

    @property
    def current_price(self) -> Money:
        return self.item.price

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def max_quantity(self) -> int | None:
        return self.item.max_quantity


@dataclass(frozen=True)
class PageCart:
    key: str  # the page's catalogue key, or NO_PAGE_KEY
    page: PageView | None
    lines: tuple[LineView, ...]
    subtotals: tuple[Money, ...]  # OK lines only, one per currency, by currency code

    @property
    def name(self) -> str:
        return self.page.name if self.page is not None else NO_PAGE_NAME

    @property
    def ok_lines(self) -> tuple[LineView, ...]:
        return tuple(line for line in self.lines if line.is_ok)

    @property
    def problem_lines(self) -> tuple[LineView, ...]:
        return tuple(line for line in self.lines if not line.is_ok)

    @property
    def can_check_out(self) -> bool:
        return bool(self.ok_lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class CartView:
    owner: CartOwner
    pages: tuple[PageCart, ...]

    @property
    def is_empty(self) -> bool:
        return not self.pages

    @property
    def item_count(self) -> int:
        return sum(page.item_count for page in self.pages)

    @property
    def has_problems(self) -> bool:
        return any(page.problem_lines for page in self.pages)

    @property
    def totals(self) -> tuple[Money, ...]:
        """Across every page, still one total per currency (OK lines only)."""
        return sum_by_currency(money for page in self.pages for money in page.subtotals)

    def page(self, key: str) -> PageCart | None:
        return next((page for page in self.pages if page.key == key), None)


def line_status(unit_price: Money, quantity: int, item: ItemView) -> tuple[LineStatus, str | None]:
    if item.withdrawn:
        return LineStatus.WITHDRAWN, "No longer offered: please remove it from your cart."
    if item.unavailable_reason is not None:
        return LineStatus.UNAVAILABLE, item.unavailable_reason
    if item.price != unit_price:  # a changed currency is a changed price too
        return (
            LineStatus.PRICE_CHANGED,
            f"The price has changed from {unit_price} to {item.price}.",
        )
    limit = item.max_quantity
    if limit is not None and quantity > limit:
        return LineStatus.INSUFFICIENT_STOCK, f"Only {limit} left."
    return LineStatus.OK, None


def check_line(line: LineSnapshot, item: ItemView) -> LineView:
    status, message = line_status(line.unit_price, line.quantity, item)
    return LineView(
        id=line.id,
        item=item,
        quantity=line.quantity,
        unit_price=line.unit_price,
        status=status,
        message=message,
        added_at=line.added_at,
    )


def page_subtotals(lines: Iterable[LineView]) -> tuple[Money, ...]:
    return sum_by_currency(line.line_total for line in lines if line.is_ok)


def build_cart_view(
    owner: CartOwner, lines: Iterable[LineSnapshot], items: Mapping[str, ItemView]
) -> CartView:
    """Group checked lines by their item's page (as the mirror says now), pages by name."""
    grouped: dict[str, tuple[PageView | None, list[LineView]]] = {}
    for line in sorted(lines, key=lambda snapshot: (snapshot.added_at, snapshot.id)):
        item = items[line.item_ap_id]
        key = item.page.key if item.page is not None else NO_PAGE_KEY
        grouped.setdefault(key, (item.page, []))[1].append(check_line(line, item))
    pages = [
        PageCart(key=key, page=page, lines=tuple(checked), subtotals=page_subtotals(checked))
        for key, (page, checked) in grouped.items()
    ]
    pages.sort(key=lambda cart: (cart.page is None, cart.name.casefold(), cart.key))
    return CartView(owner=owner, pages=tuple(pages))
