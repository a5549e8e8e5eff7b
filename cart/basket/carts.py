"""Whose cart a line is in: an anonymous shopper's cart id, or an account; adoption at login.

A cart is not a row of its own: it is the set of `cart_lines` with one owner. An
anonymous owner is the opaque random cart id carried in the shopper's signed session
cookie; a logged-in owner is the account id. Exactly one of the two is set on every
line (a CHECK says so), and an item appears at most once per owner (two UNIQUE
constraints; NULLs never collide, so each covers one kind of owner).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cart.catalog.models import CatalogItem, DecimalText
from store import Base, utcnow
from store.base import UTCDateTime

CART_ID_LENGTH = 64


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        CheckConstraint("(cart_id IS NULL) <> (account_id IS NULL)", name="one_owner"),
        CheckConstraint("quantity >= 1", name="positive_quantity"),
        UniqueConstraint("cart_id", "item_ap_id", name="uq_cart_lines_cart_id"),
        UniqueConstraint("account_id", "item_ap_id", name="uq_cart_lines_account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[str | None] = mapped_column(String(CART_ID_LENGTH), nullable=True)
    # No foreign key: accounts are another module's table, created after this one.
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item_ap_id: Mapped[str] = mapped_column(ForeignKey("catalog_items.ap_id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    # The price the shopper saw when adding: compared with the mirror on every view.
    unit_amount: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(3))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: build with `CartOwner.anonymous(cart_id)` or `CartOwner.account(id)`."""

    cart_id: str | None = None
    account_id: int | None = None

    def __post_init__(self) -> None:
        if (self.cart_id is None) == (self.account_id is None):
            raise ValueError("a cart belongs to exactly one of: an anonymous cart id, an account")
        if self.cart_id is not None and not 0 < len(self.cart_id) <= CART_ID_LENGTH:
            raise ValueError(f"an anonymous cart id is 1 to {CART_ID_LENGTH} characters")

    @classmethod
    def anonymous(cls, cart_id: str) -> CartOwner:
        return cls(cart_id=cart_id)

    @classmethod
    def account(cls, account_id: int) -> CartOwner:
        return cls(account_id=account_id)

    def clause(self) -> Any:
        """The WHERE clause selecting this owner's lines (on the table: Core and ORM alike)."""
        lines = CartLine.__table__.c
        if self.cart_id is not None:
            return lines.cart_id == self.cart_id
        return lines.account_id == self.account_id

    @property
    def column(self) -> str:
        """The name of the column that holds this kind of owner."""
        return "cart_id" if self.cart_id is not None else "account_id"

    @property
    def owner_id(self) -> str | int:
        """The anonymous cart's id or the account's: what `column` holds."""
        if self.cart_id is not None:
            return self.cart_id
        assert self.account_id is not None  # __post_init__: exactly one of the two
        return self.account_id

    def columns(self) -> dict[str, Any]:
        return {"cart_id": self.cart_id, "account_id": self.account_id}


def new_cart_id() -> str:
    """An opaque, unguessable id for an anonymous cart (256 bits)."""
    return secrets.token_urlsafe(32)


def _merged_price(kept: CartLine, other: CartLine) -> tuple[Decimal, str]:
    # The price the shopper saw most recently is the one they agreed to last.
    newest = other if other.updated_at > kept.updated_at else kept
    return newest.unit_amount, newest.currency


def adopt_cart(
    session: Session, anonymous_cart_id: str, account_id: int, *, now: datetime
) -> list[str]:
    """Move an anonymous cart's lines into the account's cart, at login.

    Same product or calendar entry in both: quantities merged (bounded by the stock or
    seats left). Returns what the shopper should be told, one sentence per change (lines
    simply moved over need no comment). Idempotent: the anonymous cart is empty after.
    """
    moment = now
    incoming = session.execute(
        select(CartLine, CatalogItem)
        .join(CatalogItem, CatalogItem.ap_id == CartLine.item_ap_id)
        .where(CartLine.cart_id == anonymous_cart_id)
        .order_by(CartLine.id)
        .with_for_update(of=CartLine)
    ).all()
    if not incoming:
        return []
    held = {
        line.item_ap_id: line
        for line in session.execute(
            select(CartLine)
            .where(
                CartLine.account_id == account_id,
                CartLine.item_ap_id.in_([line.item_ap_id for line, _ in incoming]),
            )
            .with_for_update()
        ).scalars()
    }
    changes: list[str] = []
    for line, item in incoming:
        mine = held.get(line.item_ap_id)
        if mine is None:
            line.cart_id, line.account_id, line.updated_at = None, account_id, moment
            continue
        total = mine.quantity + line.quantity
        kept = total if item.stock is None else max(1, min(total, item.stock))
        sentence = f"{item.name}: quantities merged ({mine.quantity} + {line.quantity} = {total})"
        if kept != total:
            sentence += f"; only {item.stock} left, so your cart has {kept}"
        changes.append(sentence)
        mine.unit_amount, mine.currency = _merged_price(mine, line)
        mine.quantity, mine.updated_at = kept, moment
        session.delete(line)
    session.flush()
    return changes
