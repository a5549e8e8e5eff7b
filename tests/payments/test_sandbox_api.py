"""The sandbox answers like SumUp: auth, validation errors, duplicates, refunds, the page."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from payments import CheckoutStatus
from payments.exceptions import InvalidRequest, NotAuthorized, NotFound, RefundRefused
from payments.sandbox import SandboxSettings, create_sandbox_app
from payments.sumup import SumUpClient
from tests.payments.support import API_KEY, MERCHANT, SandboxHarness, press

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def body(harness: SandboxHarness, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "checkout_reference": str(uuid.uuid4()),
        "amount": 10.1,
        "currency": "EUR",
        "merchant_code": MERCHANT,
        "description": "Purchase",
        "return_url": harness.receiver.url,
        "redirect_url": "https://cart.test/return",
        "hosted_checkout": {"enabled": True},
        "valid_until": (harness.clock.now + timedelta(minutes=30)).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


async def post(
    harness: SandboxHarness, payload: Any, headers: dict[str, str] = AUTH
) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await harness.browser.post(
        f"{harness.origin}/v0.1/checkouts",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer nope"},
    ],
)
async def test_without_the_right_bearer_key_every_endpoint_answers_401_problem(
    harness: SandboxHarness, headers: dict[str, str]
) -> None:
    paths = [
        ("POST", "/v0.1/checkouts"),
        ("GET", "/v0.1/checkouts?checkout_reference=x"),
        ("GET", "/v0.1/checkouts/abc"),
        ("POST", f"/v1.0/merchants/{MERCHANT}/payments/tx/refunds"),
    ]
    for method, path in paths:
        answer = await harness.browser.request(method, harness.origin + path, headers=headers)
        assert answer.status_code == 401
        problem = answer.json()
        assert problem["status"] == 401 and problem["title"] == "Unauthorized"
        assert problem["type"] == "https://developer.sumup.com/problem/unauthorized"


async def test_the_client_reports_a_wrong_key_as_not_authorized(harness: SandboxHarness) -> None:
    async with SumUpClient(api_key="wrong", merchant_code=MERCHANT, base_url=harness.origin) as c:
        with pytest.raises(NotAuthorized) as raised:
            await c.fetch_checkout("abc")
    assert raised.value.status == 401
    assert "wrong" not in str(raised.value)


@pytest.mark.parametrize("keys", [(), ("",), (None,), ""])
def test_a_sandbox_without_a_key_of_its_own_cannot_be_built(keys: Any) -> None:
    # There is no "accept any key" mode: served on a shop's origin, it would be anyone's.
    with pytest.raises((ValueError, TypeError)):
        create_sandbox_app(SandboxSettings(api_keys=keys))


@pytest.mark.parametrize(
    ("changes", "code", "param"),
    [
        ({"merchant_code": ...}, "MISSING", "merchant_code"),
        ({"checkout_reference": ...}, "MISSING", "checkout_reference"),
        ({"amount": ...}, "MISSING", "amount"),
        ({"currency": ...}, "MISSING", "currency"),
        ({"amount": "10.10"}, "INVALID", "amount"),
        ({"amount": True}, "INVALID", "amount"),
        ({"amount": 10.001}, "INVALID", "amount"),
        ({"amount": -1}, "INVALID", "amount"),
        ({"currency": "JPY"}, "INVALID", "currency"),
        ({"checkout_reference": "x" * 91}, "INVALID", "checkout_reference"),
        ({"return_url": "not a url"}, "INVALID", "return_url"),
        ({"redirect_url": "javascript:alert(1)"}, "INVALID", "redirect_url"),
        ({"valid_until": "tomorrow"}, "INVALID", "valid_until"),
        ({"valid_until": "2020-02-29T10:56:56+00:00"}, "INVALID", "valid_until"),
        ({"hosted_checkout": {}}, "MISSING", "hosted_checkout.enabled"),
        ({"hosted_checkout": {"enabled": "yes"}}, "INVALID", "hosted_checkout.enabled"),
    ],
)
async def test_malformed_creates_get_sumups_validation_error(
    harness: SandboxHarness, changes: dict[str, Any], code: str, param: str
) -> None:
    answer = await post(harness, body(harness, **changes))
    assert answer.status_code == 400
    assert answer.json() == {"message": "Validation error", "error_code": code, "param": param}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
async def test_a_body_that_is_not_a_json_object_is_invalid(
    harness: SandboxHarness, raw: bytes
) -> None:
    answer = await post(harness, raw)
    assert answer.status_code == 400 and answer.json()["param"] == "body"


async def test_another_merchants_checkout_is_forbidden(harness: SandboxHarness) -> None:
    answer = await post(harness, body(harness, merchant_code="MOTHER"))
    assert answer.status_code == 403
    assert answer.json() == {
        "error_message": "checkout_payments_not_allowed",
        "error_code": "FORBIDDEN",
        "status_code": "403",
    }


async def test_a_reused_reference_is_409_duplicated_checkout(harness: SandboxHarness) -> None:
    first = body(harness)
    assert (await post(harness, first)).status_code == 201
    answer = await post(harness, body(harness, checkout_reference=first["checkout_reference"]))
    assert answer.status_code == 409
    assert answer.json()["error_code"] == "DUPLICATED_CHECKOUT"


async def test_an_unknown_checkout_is_404_not_found(harness: SandboxHarness) -> None:
    answer = await harness.browser.get(f"{harness.origin}/v0.1/checkouts/nope", headers=AUTH)
    assert answer.status_code == 404
    assert answer.json() == {"error_code": "NOT_FOUND", "message": "Resource not found"}
    with pytest.raises(NotFound):
        await harness.client.fetch_checkout("nope")


async def test_the_client_sees_sumups_param_when_sumup_refuses_a_field(
    harness: SandboxHarness,
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await harness.client.create_checkout(
            reference="r",
            amount=Decimal("1"),
            currency="EUR",
            description="d",
            return_url="ftp://nowhere",
            redirect_url=None,
            valid_until=None,
        )
    assert raised.value.param == "return_url" and raised.value.error_code == "INVALID"


async def paid_transaction(harness: SandboxHarness, amount: str = "20.00") -> str:
    checkout = await harness.client.create_checkout(
        reference=str(uuid.uuid4()),
        amount=Decimal(amount),
        currency="EUR",
        description="d",
        return_url=None,
        redirect_url=None,
        valid_until=None,
    )
    await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
    paid = await harness.client.fetch_checkout(checkout.id)
    assert paid.status is CheckoutStatus.PAID and paid.transaction_id
    return paid.transaction_id


async def test_partial_refunds_up_to_the_amount_then_refused(harness: SandboxHarness) -> None:
    transaction_id = await paid_transaction(harness)
    await harness.client.refund(transaction_id, Decimal("5.00"), currency="EUR")

    with pytest.raises(RefundRefused) as too_much:
        await harness.client.refund(transaction_id, Decimal("15.01"), currency="EUR")
    assert too_much.value.status == 422

    await harness.client.refund(transaction_id, Decimal("15.00"), currency="EUR")
    with pytest.raises(RefundRefused) as nothing_left:
        await harness.client.refund(transaction_id)
    assert nothing_left.value.status == 409


async def test_refund_problems_are_sumup_problem_documents(harness: SandboxHarness) -> None:
    transaction_id = await paid_transaction(harness)
    url = f"{harness.origin}/v1.0/merchants/{MERCHANT}/payments/{transaction_id}/refunds"
    cases = [
        (url, {"amount": 0}, 400, "bad-request"),
        (url, {"amount": 1.001}, 400, "bad-request"),
        (url.replace(transaction_id, "unknown"), {}, 404, "not-found"),
        (url.replace(MERCHANT, "MOTHER"), {}, 403, "forbidden"),
    ]
    for target, payload, status, slug in cases:
        answer = await harness.browser.post(target, json=payload, headers=AUTH)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == f"https://developer.sumup.com/problem/{slug}"
    with pytest.raises(NotFound):
        await harness.client.refund("unknown")


async def test_a_failed_attempt_cannot_be_refunded(harness: SandboxHarness) -> None:
    checkout = await harness.client.create_checkout(
        reference=str(uuid.uuid4()),
        amount=Decimal("3.00"),
        currency="EUR",
        description="d",
        return_url=None,
        redirect_url=None,
        valid_until=None,
    )
    await press(harness.browser, checkout.hosted_checkout_url or "", "decline")
    failed = await harness.client.fetch_checkout(checkout.id)
    with pytest.raises(RefundRefused):
        await harness.client.refund(failed.transactions[0].id)


async def test_the_hosted_page_is_plain_accessible_html(harness: SandboxHarness) -> None:
    checkout = await harness.client.create_checkout(
        reference=str(uuid.uuid4()),
        amount=Decimal("1234.5"),
        currency="EUR",
        description="Jam <&> bread",
        return_url=None,
        redirect_url="https://cart.test/back",
        valid_until=None,
    )
    page = await harness.browser.get(checkout.hosted_checkout_url or "")
    html = page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in html and "<title>Pay 1,234.50 EUR</title>" in html
    assert "<h1>" in html and "<script" not in html
    assert '<button class="pay" type="submit" name="action" value="pay">Pay 1,234.50 EUR' in html
    assert 'value="decline">Decline</button>' in html
    assert "Jam &lt;&amp;&gt; bread" in html
    assert 'href="https://cart.test/back"' in html


async def test_a_form_without_the_checkouts_token_changes_nothing(harness: SandboxHarness) -> None:
    checkout = await harness.client.create_checkout(
        reference=str(uuid.uuid4()),
        amount=Decimal("2.00"),
        currency="EUR",
        description="d",
        return_url=harness.receiver.url,
        redirect_url=None,
        valid_until=None,
    )
    url = checkout.hosted_checkout_url or ""
    forged = await harness.browser.post(url, data={"token": "guess", "action": "pay"})
    assert forged.status_code == 403
    missing = await harness.browser.post(url, data={"action": "pay"})
    assert missing.status_code == 403
    odd = await harness.browser.post(url, data={"action": "refund"})
    assert odd.status_code == 400
    assert (await harness.client.fetch_checkout(checkout.id)).status is CheckoutStatus.PENDING
    assert harness.receiver.notices(checkout.id) == []
    unknown = await harness.browser.get(f"{harness.origin}/pay/nope")
    assert unknown.status_code == 404


async def test_pressing_pay_twice_takes_the_money_once(harness: SandboxHarness) -> None:
    checkout = await harness.client.create_checkout(
        reference=str(uuid.uuid4()),
        amount=Decimal("2.00"),
        currency="EUR",
        description="d",
        return_url=harness.receiver.url,
        redirect_url="https://cart.test/r",
        valid_until=None,
    )
    url = checkout.hosted_checkout_url or ""
    page = await harness.browser.get(url)
    token = page.text.split('name="token" value="')[1].split('"')[0]
    for _ in range(2):
        answer = await harness.browser.post(url, data={"token": token, "action": "pay"})
        assert answer.status_code == 303 and answer.headers["location"] == "https://cart.test/r"
    paid = await harness.client.fetch_checkout(checkout.id)
    assert len(paid.transactions) == 1
    assert len(harness.receiver.notices(checkout.id)) == 1
