"""How much of a payment went back, as SumUp's transaction says: what a refund whose answer
was lost is checked against (SumUp's refunds take no idempotency key)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from payments.exceptions import NotFound
from payments.sumup import SumUpClient
from payments.sumup_json import refunded_in

BASE: dict[str, Any] = {"id": "tx-1", "amount": 11.2, "currency": "GBP"}


def event(amount: Any, status: str = "REFUNDED", kind: str = "REFUND") -> dict[str, Any]:
    return {"event_type": kind, "status": status, "amount": amount}


@pytest.mark.parametrize(
    ("transaction", "refunded"),
    [
        ({**BASE, "status": "SUCCESSFUL"}, Decimal(0)),
        ({**BASE, "status": "REFUNDED"}, None),  # in part or in full: it does not say
        ({**BASE, "status": "REFUNDED", "transaction_events": []}, Decimal(0)),
        (
            {
                **BASE,
                "status": "REFUNDED",
                "transaction_events": [
                    event(Decimal("4.2")),
                    event(Decimal("1.00"), status="FAILED"),
                    event(Decimal("11.2"), kind="PAYOUT", status="PAID_OUT"),
                    event(3, status="PENDING"),
                ],
            },
            Decimal("7.20"),
        ),
        (
            {**BASE, "status": "REFUNDED", "events": [{"type": "REFUND", "amount": 2}]},
            Decimal("2.00"),
        ),
        ({**BASE, "status": "REFUNDED", "transaction_events": [event("lots")]}, None),
        ({"id": "tx-1", "status": "REFUNDED"}, None),
        ([], None),
    ],
)
def test_the_refunded_total_is_read_from_the_refund_events(
    transaction: Any, refunded: Decimal | None
) -> None:
    assert refunded_in(transaction) == refunded


async def test_the_client_asks_for_the_transaction_by_id() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.params.get("id") == "gone":
            return httpx.Response(404, json={"error_code": "NOT_FOUND", "message": "no"})
        body = {**BASE, "status": "REFUNDED", "transaction_events": [event(4.2)]}
        return httpx.Response(200, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = SumUpClient(api_key="k", merchant_code="MH4H92C7", http=http)
    assert await client.refunded_amount("tx-1") == Decimal("4.20")
    assert seen[0].path == "/v2.1/merchants/MH4H92C7/transactions"
    assert seen[0].params["id"] == "tx-1"
    with pytest.raises(NotFound):
        await client.refunded_amount("gone")
