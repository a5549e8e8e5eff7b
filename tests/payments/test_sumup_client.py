"""The client's edge: the exact request it sends, and how each answer is sorted.

SumUp's answers here come from ``httpx.MockTransport`` handlers (the shapes are SumUp's
documented ones); the network itself is exercised against the sandbox elsewhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from payments.exceptions import (
    GENERIC_SHOPPER_MESSAGE,
    DuplicateCheckout,
    InvalidAmount,
    InvalidRequest,
    NotAuthorized,
    PaymentError,
    ProviderUnavailable,
    UnableToTakePayment,
    UnsupportedCurrency,
)
from payments.provider import CheckoutStatus, PaymentProvider
from payments.sumup import SumUpClient

KEY = "sup_sk_live_secret_never_logged"
CHECKOUT = {
    "checkout_reference": "order-1",
    "amount": 10.1,
    "currency": "EUR",
    "merchant_code": "MH4H92C7",
    "id": "64553e20-3f0e-49e4-8af3-fd0eca86ce91",
    "status": "PENDING",
    "date": "2000-01-01T12:49:24.899+00:00",
    "hosted_checkout_url": "https://checkout.sumup.com/pay/8f9316a3",
    "transactions": [],
}

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler) -> SumUpClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return SumUpClient(api_key=KEY, merchant_code="MH4H92C7", http=http)


async def create(client: SumUpClient, **changes: Any) -> Any:
    options: dict[str, Any] = {
        "reference": "order-1",
        "amount": Decimal("10.10"),
        "currency": "EUR",
        "description": "Order 1",
        "return_url": "https://cart.test/webhooks/sumup",
        "redirect_url": "https://cart.test/orders/1/return",
        "valid_until": datetime(2026, 11, 24, 7, 0, 30, 123456, tzinfo=UTC),
    }
    options.update(changes)
    return await client.create_checkout(**options)


def test_the_client_is_a_payment_provider() -> None:
    assert isinstance(SumUpClient(api_key="k", merchant_code="m"), PaymentProvider)


async def test_create_sends_sumups_fields_with_a_major_unit_amount() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=CHECKOUT)

    checkout = await create(client_for(handler))

    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.sumup.com/v0.1/checkouts")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content, parse_float=Decimal) == {
        "checkout_reference": "order-1",
        "amount": Decimal("10.1"),
        "currency": "EUR",
        "merchant_code": "MH4H92C7",
        "description": "Order 1",
        "hosted_checkout": {"enabled": True},
        "return_url": "https://cart.test/webhooks/sumup",
        "redirect_url": "https://cart.test/orders/1/return",
        "valid_until": "2026-11-24T07:00:30+00:00",
    }
    assert b'"amount":10.1,' in request.content.replace(b" ", b"")
    assert checkout.amount == Decimal("10.10") and checkout.status is CheckoutStatus.PENDING
    assert checkout.hosted_checkout_url == "https://checkout.sumup.com/pay/8f9316a3"


async def test_nothing_is_sent_for_an_amount_or_currency_that_cannot_be_paid() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    client = client_for(handler)
    with pytest.raises(InvalidAmount):
        await create(client, amount=Decimal("10.005"))
    with pytest.raises(UnsupportedCurrency) as unsupported:
        await create(client, amount=Decimal("1500"), currency="JPY")
    assert isinstance(unsupported.value, UnableToTakePayment)
    assert "JPY" in unsupported.value.shopper_message
    with pytest.raises(ValueError):
        await create(client, valid_until=datetime(2026, 1, 1))  # naive: ambiguous
    with pytest.raises(ValueError):
        await create(client, reference="x" * 91)
    with pytest.raises(ValueError):
        await client.refund("tx-1", Decimal("5.00"))  # which currency's cents?
    with pytest.raises(InvalidAmount):
        await client.refund("tx-1", Decimal("5.5"), currency="JPY")


@pytest.mark.parametrize(
    ("status", "payload", "error", "fields"),
    [
        (500, {"message": "boom"}, ProviderUnavailable, {}),
        (503, None, ProviderUnavailable, {}),
        (429, None, ProviderUnavailable, {}),
        (
            401,
            {"detail": "Unauthorized.", "status": 401, "title": "Unauthorized", "type": "x"},
            NotAuthorized,
            {"detail": "Unauthorized."},
        ),
        (
            403,
            {
                "error_message": "checkout_payments_not_allowed",
                "error_code": "FORBIDDEN",
                "status_code": "403",
            },
            NotAuthorized,
            {"error_code": "FORBIDDEN", "detail": "checkout_payments_not_allowed"},
        ),
        (
            400,
            {"message": "Validation error", "error_code": "MISSING", "param": "merchant_code"},
            InvalidRequest,
            {"error_code": "MISSING", "param": "merchant_code"},
        ),
        (
            400,
            [{"message": "Validation error", "error_code": "INVALID", "param": "amount"}],
            InvalidRequest,
            {"error_code": "INVALID", "param": "amount"},
        ),
    ],
)
async def test_answers_are_sorted_into_retryable_or_not(
    status: int, payload: Any, error: type[PaymentError], fields: dict[str, str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return (
            httpx.Response(status, json=payload) if payload is not None else httpx.Response(status)
        )

    with pytest.raises(error) as raised:
        await create(client_for(handler))
    for name, value in fields.items():
        assert getattr(raised.value, name) == value
    assert raised.value.shopper_message == GENERIC_SHOPPER_MESSAGE
    assert getattr(raised.value, "retryable", None) is (error is ProviderUnavailable)


async def test_a_network_failure_is_retryable_and_says_nothing_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ProviderUnavailable) as raised:
        await client_for(handler).fetch_checkout("abc")
    assert raised.value.retryable and KEY not in str(raised.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(200, json={"id": "x", "amount": 1, "currency": "EUR"}),
        httpx.Response(200, json={**CHECKOUT, "status": "SOMETHING_NEW"}),
        httpx.Response(200, json=[CHECKOUT]),
    ],
)
async def test_an_unreadable_success_is_not_taken_as_a_checkout(response: httpx.Response) -> None:
    with pytest.raises(ProviderUnavailable):
        await client_for(lambda request: response).fetch_checkout("abc")


async def test_a_duplicate_whose_lookup_finds_nothing_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                409, json={"error_code": "DUPLICATED_CHECKOUT", "message": "already exists"}
            )
        assert request.url.params["checkout_reference"] == "order-1"
        # A provider filter that ignored the reference must not hand us someone else's.
        return httpx.Response(200, json=[{**CHECKOUT, "checkout_reference": "order-2"}])

    with pytest.raises(DuplicateCheckout):
        await create(client_for(handler))


async def test_a_paid_checkout_names_its_transaction_and_parses_decimals_exactly() -> None:
    paid = {
        **CHECKOUT,
        "amount": 0.3,
        "status": "PAID",
        "transaction_id": "410fc44a",
        "transaction_code": "TEENSK4W2K",
        "transactions": [
            {"id": "failed-1", "amount": 0.3, "currency": "EUR", "status": "FAILED"},
            {
                "id": "410fc44a",
                "amount": 0.3,
                "currency": "EUR",
                "status": "SUCCESSFUL",
                "timestamp": "2020-02-29T10:56:56.876Z",
            },
        ],
    }
    checkout = await client_for(lambda r: httpx.Response(200, json=paid)).fetch_checkout("abc")
    assert checkout.amount == Decimal("0.30") and str(checkout.amount) == "0.30"
    assert checkout.transaction_id == "410fc44a"
    assert checkout.transaction_ids == ("failed-1", "410fc44a")
    assert checkout.transactions[1].timestamp == datetime(2020, 2, 29, 10, 56, 56, 876000, UTC)


async def test_ids_are_escaped_into_the_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(201, json={})

    client = client_for(handler)
    await client.refund("../../v0.1/checkouts?x=1", Decimal("5.00"), currency="EUR")
    assert seen == ["/v1.0/merchants/MH4H92C7/payments/..%2F..%2Fv0.1%2Fcheckouts%3Fx%3D1/refunds"]


async def test_a_full_refund_sends_no_amount() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(201, json={})

    refund = await client_for(handler).refund("tx-1")
    assert bodies == [b""] and refund.amount is None


async def test_the_api_key_never_reaches_logs_reprs_or_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Unauthorized.", "type": "x"})

    client = client_for(handler)
    with pytest.raises(NotAuthorized) as raised:
        await create(client)
    assert KEY not in caplog.text
    assert KEY not in repr(client) and KEY not in str(raised.value)


async def test_a_reused_checkout_without_its_page_url_is_read_again_for_it() -> None:
    listed = {key: value for key, value in CHECKOUT.items() if key != "hosted_checkout_url"}
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return httpx.Response(409, json={"error_code": "DUPLICATED_CHECKOUT", "message": "x"})
        if request.url.path == "/v0.1/checkouts":
            return httpx.Response(200, json=[listed])
        return httpx.Response(200, json=CHECKOUT)

    checkout = await create(client_for(handler))
    assert checkout.hosted_checkout_url == CHECKOUT["hosted_checkout_url"]
    assert calls == [
        "POST /v0.1/checkouts",
        "GET /v0.1/checkouts",
        f"GET /v0.1/checkouts/{CHECKOUT['id']}",
    ]
