"""The sandbox's books: checkouts and transactions in memory, behind one lock.

I/O-free: the Starlette app validates requests and renders responses; this module holds the
state machine (PENDING -> PAID | FAILED -> PAID | EXPIRED; a paid transaction SUCCESSFUL ->
REFUNDED). The lock is a ``threading.Lock`` because every operation is short and synchronous
and the app may be driven from tests on other threads. Each checkout belongs to the API
key that created it (``owner``): reads, lists and refunds see only that key's checkouts. The
books hold at most ``max_checkouts``; the oldest go first.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from payments.exceptions import InvalidAmount
from payments.money import check_amount

# SumUp's own testing guidance uses an amount of 11 (in major units) to force a failed
# payment: sumup/sumup-skills, skills/sumup-testing ("triggering deliberate failure
# (`amount = 11`)", "The standard decline amount is 11.00"), Apache-2.0, and
# https://developer.sumup.com/terminal-payments/testing (10.00 succeeds; the decline amount
# fails). Online card declines in the real sandbox are driven by test cards, which a page
# without card fields cannot take, so the sandbox applies the amount rule to every attempt.
DEFAULT_FAILING_AMOUNTS: frozenset[Decimal] = frozenset({Decimal("11")})


class LedgerError(Exception):
    """A request the books refuse; ``kind`` says which SumUp error shape to answer with."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        # duplicate | not_found | forbidden | not_refundable | too_much | bad_amount
        self.kind = kind
        self.message = message


@dataclass
class SandboxTransaction:
    id: str
    code: str
    amount: Decimal
    currency: str
    merchant_code: str
    timestamp: datetime
    status: str  # SUCCESSFUL | FAILED | REFUNDED
    refunded: Decimal = Decimal(0)
    refunds: list[tuple[Decimal, datetime]] = field(default_factory=list)  # each, when

    @property
    def refundable(self) -> Decimal:
        if self.status not in ("SUCCESSFUL", "REFUNDED"):
            return Decimal(0)
        return self.amount - self.refunded


@dataclass
class SandboxCheckout:
    id: str
    reference: str
    amount: Decimal
    currency: str
    merchant_code: str
    description: str | None
    return_url: str | None
    redirect_url: str | None
    valid_until: datetime | None
    date: datetime
    hosted: bool
    owner: str = ""  # the API key (as ``key_owner``) that created it: the only one to see it
    status: str = "PENDING"
    transactions: list[SandboxTransaction] = field(default_factory=list)
    # The hosted page's form token: a POST without it is refused (CSRF-ish, per checkout).
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def paid_transaction(self) -> SandboxTransaction | None:
        for transaction in self.transactions:
            if transaction.status in ("SUCCESSFUL", "REFUNDED"):
                return transaction
        return None

    @property
    def can_pay(self) -> bool:
        return self.status in ("PENDING", "FAILED")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """All checkouts of one sandbox. Methods return copies' worth of state under the lock."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = utc_now,
        failing_amounts: Iterable[Decimal] = DEFAULT_FAILING_AMOUNTS,
        max_checkouts: int = 10_000,
    ) -> None:
        self.clock = clock
        self.max_checkouts = max_checkouts
        self.failing_amounts = frozenset(failing_amounts)
        self._lock = threading.Lock()
        self._checkouts: dict[str, SandboxCheckout] = {}
        self._by_reference: dict[tuple[str, str, str], str] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._checkouts)

    def _expire(self, checkout: SandboxCheckout) -> None:
        # Expiry is lazy: any read after valid_until sees EXPIRED, as the API would.
        if checkout.can_pay and checkout.valid_until and self.clock() >= checkout.valid_until:
            checkout.status = "EXPIRED"

    def create(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        merchant_code: str,
        description: str | None,
        return_url: str | None,
        redirect_url: str | None,
        valid_until: datetime | None,
        hosted: bool,
        owner: str = "",
    ) -> SandboxCheckout:
        with self._lock:
            key = (owner, merchant_code, reference)
            if key in self._by_reference:
                raise LedgerError(
                    "duplicate",
                    "Checkout with this checkout reference and pay to email already exists",
                )
            checkout = SandboxCheckout(
                id=str(uuid.uuid4()),
                reference=reference,
                amount=amount,
                currency=currency,
                merchant_code=merchant_code,
                description=description,
                return_url=return_url,
                redirect_url=redirect_url,
                valid_until=valid_until,
                date=self.clock(),
                hosted=hosted,
                owner=owner,
            )
            self._checkouts[checkout.id] = checkout
            self._by_reference[key] = checkout.id
            while len(self._checkouts) > self.max_checkouts:
                # The books live in memory: the oldest checkout goes (dicts keep order).
                oldest = self._checkouts.pop(next(iter(self._checkouts)))
                self._by_reference.pop((oldest.owner, oldest.merchant_code, oldest.reference))
            return checkout

    def forget(self) -> None:
        """Lose every checkout, as a restart of the sandbox does (the books live in memory)."""
        with self._lock:
            self._checkouts.clear()
            self._by_reference.clear()

    def get(self, checkout_id: str, owner: str | None = None) -> SandboxCheckout:
        """A checkout by id; with ``owner`` (an API call), only one that key created."""
        with self._lock:
            checkout = self._checkouts.get(checkout_id)
            if checkout is None or (owner is not None and checkout.owner != owner):
                raise LedgerError("not_found", "Resource not found")
            self._expire(checkout)
            return checkout

    def find(self, reference: str | None, owner: str = "") -> list[SandboxCheckout]:
        """The checkouts ``owner`` created, those with ``reference`` only if given."""
        with self._lock:
            found = [
                checkout
                for checkout in self._checkouts.values()
                if checkout.owner == owner
                and (reference is None or checkout.reference == reference)
            ]
            for checkout in found:
                self._expire(checkout)
            return found

    def attempt(self, checkout_id: str, token: str, *, approve: bool) -> SandboxCheckout | None:
        """One payment attempt from the hosted page. None if nothing changed (a stale form,
        a paid or expired checkout); the checkout after the attempt otherwise."""
        with self._lock:
            checkout = self._checkouts.get(checkout_id)
            if checkout is None:
                raise LedgerError("not_found", "Resource not found")
            if not secrets.compare_digest(checkout.form_token, token):
                raise LedgerError("forbidden", "This payment form is no longer valid")
            self._expire(checkout)
            if not checkout.can_pay:
                return None
            succeeds = approve and checkout.amount not in self.failing_amounts
            transaction = SandboxTransaction(
                id=str(uuid.uuid4()),
                code="T" + secrets.token_hex(5).upper(),
                amount=checkout.amount,
                currency=checkout.currency,
                merchant_code=checkout.merchant_code,
                timestamp=self.clock(),
                status="SUCCESSFUL" if succeeds else "FAILED",
            )
            checkout.transactions.append(transaction)
            checkout.status = "PAID" if succeeds else "FAILED"
            return checkout

    def refund(
        self, merchant_code: str, transaction_id: str, amount: Decimal | None, owner: str = ""
    ) -> SandboxTransaction:
        with self._lock:
            transaction = next(
                (
                    item
                    for checkout in self._checkouts.values()
                    if checkout.owner == owner
                    for item in checkout.transactions
                    if item.id == transaction_id and item.merchant_code == merchant_code
                ),
                None,
            )
            if transaction is None:
                raise LedgerError("not_found", "Transaction not found")
            left = transaction.refundable
            if left <= 0:
                raise LedgerError(
                    "not_refundable", "The transaction is not refundable in its current state"
                )
            if amount is not None:
                try:
                    check_amount(amount, transaction.currency)
                except InvalidAmount as error:
                    raise LedgerError("bad_amount", str(error)) from error
            wanted = left if amount is None else amount
            if wanted > left:
                raise LedgerError("too_much", str(left))
            transaction.refunded += wanted
            transaction.refunds.append((wanted, self.clock()))
            transaction.status = "REFUNDED"
            return transaction

    def transaction(
        self, merchant_code: str, transaction_id: str, owner: str = ""
    ) -> SandboxTransaction:
        """One of this key's transactions, by id (SumUp's GetTransaction)."""
        with self._lock:
            for checkout in self._checkouts.values():
                if checkout.owner != owner:
                    continue
                for item in checkout.transactions:
                    if item.id == transaction_id and item.merchant_code == merchant_code:
                        return item
            raise LedgerError("not_found", "Transaction not found")
