"""What the shop needs from a payment provider, and the values it gets back.

The protocol speaks in our terms (a reference, a Decimal amount, a currency); each provider
module converts at its own HTTP edge. ``cart/`` depends on this protocol only, so the SumUp
client, the SumUp sandbox (through the same client) or a test double can stand behind it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


class CheckoutStatus(enum.StrEnum):
    """SumUp's checkout statuses (OpenAPI ``Checkout.status``).

    FAILED means the latest attempt failed; the shopper may still retry on the hosted page,
    so it is not final. PAID and EXPIRED are final.
    """

    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in (CheckoutStatus.PAID, CheckoutStatus.EXPIRED)


class TransactionStatus(enum.StrEnum):
    """SumUp's ``TransactionStatus``; REFUNDED covers full and partial refunds."""

    SUCCESSFUL = "SUCCESSFUL"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True, slots=True)
class Transaction:
    """One payment attempt on a checkout."""

    id: str
    status: str  # a TransactionStatus value, or whatever new value the provider invents
    amount: Decimal | None = None
    currency: str | None = None
    code: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Checkout:
    """A provider checkout as fetched: the only payment facts reconciliation trusts."""

    id: str
    reference: str
    amount: Decimal
    currency: str
    status: CheckoutStatus
    hosted_checkout_url: str | None = None
    valid_until: datetime | None = None
    description: str | None = None
    transactions: tuple[Transaction, ...] = ()
    # The provider's own pointer to the transaction that paid it (CheckoutSuccess).
    paid_transaction_id: str | None = None

    @property
    def transaction_id(self) -> str | None:
        """The id of the transaction that paid this checkout, if any; what a refund needs."""
        if self.paid_transaction_id:
            return self.paid_transaction_id
        for transaction in self.transactions:
            if transaction.status in (TransactionStatus.SUCCESSFUL, TransactionStatus.REFUNDED):
                return transaction.id
        return None

    @property
    def transaction_ids(self) -> tuple[str, ...]:
        return tuple(transaction.id for transaction in self.transactions)


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund the provider accepted. ``amount`` None means the whole transaction."""

    transaction_id: str
    amount: Decimal | None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutNotice:
    """A webhook said "checkout ``checkout_id`` may have changed". Nothing more is trusted:
    fetch the checkout from the provider before acting."""

    checkout_id: str
    event_id: str | None = None  # the newer envelope's own id; useful in logs only
    shape: str = "legacy"  # "legacy" or "event"


@runtime_checkable
class PaymentProvider(Protocol):
    async def create_checkout(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        description: str,
        return_url: str | None,
        redirect_url: str | None,
        valid_until: datetime | None,
    ) -> Checkout:
        """Create the hosted checkout for ``reference``, or return the existing one.

        ``return_url`` is the provider's server-to-server webhook; ``redirect_url`` is where
        the shopper's browser goes afterwards. Idempotent per ``reference``.
        """
        ...

    async def fetch_checkout(self, checkout_id: str) -> Checkout: ...

    async def find_by_reference(self, reference: str) -> Checkout | None: ...

    async def refund(
        self, transaction_id: str, amount: Decimal | None = None, *, currency: str | None = None
    ) -> Refund:
        """Refund ``amount`` (None: all that is left) of a paid transaction; a partial
        refund names its ``currency`` so its precision can be checked before sending."""
        ...

    async def refunded_amount(self, transaction_id: str) -> Decimal | None:
        """How much of a paid transaction has gone back, as the provider's books say; None
        when it cannot tell. A refund whose outcome was lost (a crash after the call) is
        checked against this before it is sent again: refunds take no idempotency key."""
        ...
