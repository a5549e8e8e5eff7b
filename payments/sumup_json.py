"""SumUp's JSON, read into our values and written from them.

The shapes are those of SumUp's published OpenAPI description (reference/ in the shared
docs): ``Checkout``/``CheckoutSuccess``, ``TransactionFull``'s refund events, and the
error bodies (``Error``, ``ErrorExtended``, ``ErrorForbidden``, ``Problem``). Money is
read through ``payments.money`` only. Used by the client (payments/sumup.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from payments import json_text
from payments.exceptions import InvalidAmount, ProviderUnavailable
from payments.money import from_major_units
from payments.provider import Checkout, CheckoutStatus, Transaction


def parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_datetime(moment: datetime) -> str:
    """ISO 8601 with an offset, as in SumUp's examples ("2020-02-29T10:56:56+00:00")."""
    if moment.tzinfo is None:
        raise ValueError("valid_until must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def refunded_in(transaction: object) -> Decimal | None:
    """The refunded total of a ``TransactionFull``: its REFUND events that did not fail.

    None when it cannot be told: a REFUNDED transaction without events, or an event
    whose amount is unreadable."""
    if not isinstance(transaction, dict) or not isinstance(transaction.get("currency"), str):
        return None
    events, kind = transaction.get("transaction_events"), "event_type"
    if not isinstance(events, list):
        events, kind = transaction.get("events"), "type"
    if not isinstance(events, list):
        return None if transaction.get("status") == "REFUNDED" else Decimal(0)
    total = Decimal(0)
    for event in events:
        if not isinstance(event, dict) or event.get(kind) != "REFUND":
            continue
        if event.get("status") == "FAILED":
            continue
        try:
            total += from_major_units(event.get("amount"), transaction["currency"])
        except InvalidAmount:
            return None
    return total


def parse_checkout(data: object) -> Checkout:
    """A ``Checkout``/``CheckoutSuccess`` JSON object (floats parsed as Decimal) as a value."""
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"checkout is not a JSON object: {type(data).__name__}")
    try:
        currency = data["currency"]
        status = CheckoutStatus(data["status"])
        checkout_id = data["id"]
        reference = data.get("checkout_reference") or ""
        amount = from_major_units(data["amount"], currency)
    except (KeyError, ValueError, TypeError) as error:
        # A 2xx we cannot read is the provider misbehaving: treat it as unavailable.
        raise ProviderUnavailable(f"unreadable checkout from provider: {error!r}") from error
    transactions = []
    for item in data.get("transactions") or ():
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        item_currency = item.get("currency") if isinstance(item.get("currency"), str) else None
        item_amount = None
        if item_currency and item.get("amount") is not None:
            try:
                item_amount = from_major_units(item["amount"], item_currency)
            except InvalidAmount:
                item_amount = None
        transactions.append(
            Transaction(
                id=item["id"],
                status=str(item.get("status") or ""),
                amount=item_amount,
                currency=item_currency,
                code=item.get("transaction_code"),
                timestamp=parse_datetime(item.get("timestamp")),
            )
        )
    paid_id = data.get("transaction_id")
    return Checkout(
        id=str(checkout_id),
        reference=str(reference),
        amount=amount,
        currency=str(currency),
        status=status,
        hosted_checkout_url=data.get("hosted_checkout_url"),
        valid_until=parse_datetime(data.get("valid_until")),
        description=data.get("description"),
        transactions=tuple(transactions),
        paid_transaction_id=paid_id if isinstance(paid_id, str) and paid_id else None,
    )


def error_fields(content: bytes) -> dict[str, str | None]:
    """error_code/param/detail from any of SumUp's error shapes (Error, ErrorExtended,
    ErrorForbidden, Problem), or from the first item when it answers with a list."""
    try:
        body: Any = json_text.loads(content)
    except ValueError:
        return {"error_code": None, "param": None, "detail": None}
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return {"error_code": None, "param": None, "detail": None}

    def text(*keys: str) -> str | None:
        for key in keys:
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
        return None

    return {
        "error_code": text("error_code"),
        "param": text("param"),
        "detail": text("message", "error_message", "detail", "title"),
    }
