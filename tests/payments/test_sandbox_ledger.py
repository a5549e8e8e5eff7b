"""The sandbox's books hold under concurrency and when mounted inside another app."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from payments.sandbox import SandboxSettings, create_sandbox_app
from payments.sandbox.ledger import Ledger, LedgerError
from payments.sumup import SumUpClient


def new_checkout(ledger: Ledger, reference: str = "r1"):  # type: ignore[no-untyped-def]
    return ledger.create(
        reference=reference,
        amount=Decimal("5.00"),
        currency="EUR",
        merchant_code="M",
        description=None,
        return_url=None,
        redirect_url=None,
        valid_until=None,
        hosted=True,
    )


def race(count: int, work) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    results: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except LedgerError as error:
            results.append(error.kind)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_many_presses_of_pay_at_once_take_the_money_once() -> None:
    ledger = Ledger()
    checkout = new_checkout(ledger)
    results = race(16, lambda: ledger.attempt(checkout.id, checkout.form_token, approve=True))
    assert sum(result is not None for result in results) == 1
    assert [t.status for t in ledger.get(checkout.id).transactions] == ["SUCCESSFUL"]


def test_one_reference_created_at_once_makes_one_checkout() -> None:
    ledger = Ledger()
    results = race(16, lambda: new_checkout(ledger, "same"))
    assert results.count("duplicate") == 15
    assert len(ledger.find("same")) == 1


def test_concurrent_full_refunds_refund_once() -> None:
    ledger = Ledger()
    checkout = new_checkout(ledger)
    ledger.attempt(checkout.id, checkout.form_token, approve=True)
    transaction = checkout.transactions[0]
    results = race(16, lambda: ledger.refund("M", transaction.id, None))
    assert results.count("not_refundable") == 15
    assert transaction.refunded == Decimal("5.00")


async def test_mounted_under_a_path_the_sandbox_still_works() -> None:
    sandbox = create_sandbox_app(SandboxSettings(api_keys=("k",), merchant_code="M"))
    parent = Starlette(routes=[Mount("/sumup-sandbox", sandbox)])
    transport = httpx.ASGITransport(app=parent)
    async with httpx.AsyncClient(transport=transport, base_url="http://cart.test") as http:
        client = SumUpClient(
            api_key="k", merchant_code="M", base_url="http://cart.test/sumup-sandbox", http=http
        )
        checkout = await client.create_checkout(
            reference="r",
            amount=Decimal("3.00"),
            currency="EUR",
            description="d",
            return_url=None,
            redirect_url=None,
            valid_until=None,
        )
        assert checkout.hosted_checkout_url == f"http://cart.test/sumup-sandbox/pay/{checkout.id}"
        page = await http.get(checkout.hosted_checkout_url)
        assert page.status_code == 200 and 'action=""' in page.text
