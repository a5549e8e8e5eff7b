"""``NotConfigured``: the provider of a shop that has no way to take money.

A shop without SumUp credentials, and without an explicit choice of the sandbox, must
not take orders: it would promise goods for "payments" nobody receives. This provider
stands in the ``PaymentProvider`` slot so every caller keeps one code path, and refuses
every operation with ``PaymentsNotConfigured``. Nothing it answers can ever mark an order
paid. The composition layer chooses the message (it knows the settings' names).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from payments.exceptions import UnableToTakePayment
from payments.provider import Checkout, Refund


class PaymentsNotConfigured(UnableToTakePayment):
    """This shop has no payment provider configured; the message names the fix."""


class NotConfigured:
    """A ``PaymentProvider`` that refuses everything: no checkout, no status, no refund."""

    def __init__(self, shopper_message: str, detail: str) -> None:
        self.shopper_message = shopper_message
        self.detail = detail

    def _refuse(self) -> NoReturn:
        raise PaymentsNotConfigured(self.shopper_message, self.detail)

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
        self._refuse()

    async def fetch_checkout(self, checkout_id: str) -> Checkout:
        self._refuse()

    async def find_by_reference(self, reference: str) -> Checkout | None:
        self._refuse()

    async def refund(
        self, transaction_id: str, amount: Decimal | None = None, *, currency: str | None = None
    ) -> Refund:
        self._refuse()

    async def refunded_amount(self, transaction_id: str) -> Decimal | None:
        self._refuse()

    async def aclose(self) -> None:
        return None
