"""The operator's actions: accept/reject follows, retry deliveries, refund an order.

Every action needs the page's CSRF token; the destructive ones (reject, retry all,
refund) also the operator's password, and a wrong one changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from cart.orders.models import ShopOrder, order_id_from_number
from outbox.models import Follower, OutboxActivity, OutboxDelivery
from tests.cart.admin_support import COOP, PASSWORD, seed_federation, seed_paid_order
from tests.cart.web_support import csrf_token


async def _act(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    token = csrf_token((await client.get(page)).text)
    return await client.post(action, data={"csrf_token": token, **data})


async def _follower_state(app: Starlette, actor: str = COOP) -> str:
    async with app.state.db.transaction() as session:
        follower = await session.get(Follower, actor)
        assert follower is not None
        return follower.state


async def _delivery_status(app: Starlette, delivery_id: int) -> str:
    async with app.state.db.transaction() as session:
        row = await session.get(OutboxDelivery, delivery_id)
        assert row is not None
        return row.status


async def _activities(app: Starlette) -> list[str]:
    async with app.state.db.transaction() as session:
        query = select(OutboxActivity.activity_type).order_by(OutboxActivity.id)
        rows = await session.execute(query)
        return list(rows.scalars())


async def test_accepting_a_follow_request_sends_our_accept(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    answer = await _act(operator, "/admin/follows", "/admin/follows/accept", {"actor": COOP})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/follows"
    assert await _follower_state(admin_app) == "accepted"
    assert (await _activities(admin_app))[-1] == "Accept"
    page = await operator.get("/admin/follows")
    assert "Accepted the follow request of " + COOP in page.text
    assert "No follow requests are waiting." in page.text
    again = await _act(operator, "/admin/follows", "/admin/follows/accept", {"actor": COOP})
    assert again.status_code == 303
    assert "has no pending follow request" in (await operator.get("/admin/follows")).text


async def test_an_anonymous_action_is_sent_to_log_in_and_changes_nothing(
    admin_app: Starlette, anonymous: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    answer = await _act(anonymous, "/login", "/admin/follows/accept", {"actor": COOP})
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/admin"
    assert await _follower_state(admin_app) == "pending"


async def test_a_form_without_the_csrf_token_changes_nothing(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    ids = await seed_federation(admin_app)
    for action, data in [
        ("/admin/follows/accept", {"actor": COOP}),
        ("/admin/deliveries/retry", {"delivery": str(ids["dead"])}),
        ("/admin/deliveries/retry-all", {"password": PASSWORD}),
    ]:
        answer = await operator.post(action, data={"csrf_token": "forged", **data})
        assert answer.status_code == 403, action
        assert "did not carry the right token" in answer.text
    assert await _follower_state(admin_app) == "pending"
    assert await _delivery_status(admin_app, ids["dead"]) == "dead"


async def test_rejecting_needs_the_password_again(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    for wrong in ({}, {"password": "not my password"}):
        answer = await _act(
            operator, "/admin/follows", "/admin/follows/reject", {"actor": COOP, **wrong}
        )
        assert answer.status_code == 403
        assert "nothing was changed" in answer.text
    assert await _follower_state(admin_app) == "pending"
    assert "Reject" not in await _activities(admin_app)
    answer = await _act(
        operator, "/admin/follows", "/admin/follows/reject", {"actor": COOP, "password": PASSWORD}
    )
    assert answer.status_code == 303
    assert await _follower_state(admin_app) == "rejected"
    assert (await _activities(admin_app))[-1] == "Reject"


async def test_retrying_one_dead_delivery(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    ids = await seed_federation(admin_app)
    answer = await _act(
        operator, "/admin/deliveries", "/admin/deliveries/retry", {"delivery": str(ids["dead"])}
    )
    assert answer.status_code == 303
    assert await _delivery_status(admin_app, ids["dead"]) == "pending"
    page = (await operator.get("/admin/deliveries")).text
    assert f"Delivery #{ids['dead']} is queued again" in page
    assert "No dead deliveries." in page


async def test_retrying_all_needs_the_password(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    ids = await seed_federation(admin_app)
    wrong = await _act(
        operator, "/admin/deliveries", "/admin/deliveries/retry-all", {"password": "guess"}
    )
    assert wrong.status_code == 403
    assert await _delivery_status(admin_app, ids["dead"]) == "dead"
    right = await _act(
        operator, "/admin/deliveries", "/admin/deliveries/retry-all", {"password": PASSWORD}
    )
    assert right.status_code == 303
    assert await _delivery_status(admin_app, ids["dead"]) == "pending"
    assert "1 dead deliveries are queued again" in (await operator.get("/admin/deliveries")).text


class RecordingProvider:
    """Stands in for SumUp: remembers which transactions it was asked to refund."""

    def __init__(self) -> None:
        self.refunded: list[str] = []

    async def fetch_checkout(self, checkout_id: str) -> None:
        raise AssertionError("the seeded order has no checkout to fetch")

    async def refund(self, transaction_id: str, amount: Decimal | None = None, **_: object) -> None:
        self.refunded.append(transaction_id)


async def _order_status(app: Starlette, number: str) -> str:
    async with app.state.db.transaction() as session:
        order = await session.get(ShopOrder, order_id_from_number(number))
        assert order is not None
        return order.status


async def test_refunding_a_paid_order(admin_app: Starlette, operator: httpx.AsyncClient) -> None:
    provider = RecordingProvider()
    admin_app.state.payment_provider = provider
    number = await seed_paid_order(admin_app)
    page = f"/admin/orders/{number}"
    wrong = await _act(operator, page, page + "/refund", {"password": "wrong password"})
    assert wrong.status_code == 403
    assert await _order_status(admin_app, number) == "paid" and provider.refunded == []
    right = await _act(operator, page, page + "/refund", {"password": PASSWORD})
    assert right.status_code == 303 and right.headers["location"] == page
    assert provider.refunded == ["txn-123"]
    assert await _order_status(admin_app, number) == "refunded"
    shown = (await operator.get(page)).text
    history = shown.split("Status history")[1].split("Refunds asked for")[0]
    assert "Refund requested: Refunded by the shop." in history and "op@coop.example" not in history
    assert "(whole, by op@coop.example)" in shown
    assert 'id="order-status">refunded<' in shown
    assert "/refund" not in shown  # nothing left to refund: no form
    again = await _act(operator, "/admin/orders", page + "/refund", {"password": PASSWORD})
    assert again.status_code == 303
    assert provider.refunded == ["txn-123"]
    assert "nothing to refund" in (await operator.get(page)).text


async def test_a_partial_refund_is_asked_of_the_provider_as_soon_as_it_is_recorded(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    provider = RecordingProvider()
    admin_app.state.payment_provider = provider
    number = await seed_paid_order(admin_app)
    page = f"/admin/orders/{number}"
    form = {"password": PASSWORD, "reason": "Burnt crust", "amount": "0.50"}
    right = await _act(operator, page, page + "/refund", form)
    assert right.status_code == 303 and right.headers["location"] == page
    assert provider.refunded == ["txn-123"]  # asked right after the commit, not at the next round
    assert await _order_status(admin_app, number) == "paid"  # some of it, not all
    assert "Burnt crust" in (await operator.get(page)).text


async def test_a_wrong_password_at_the_refund_brings_the_form_back_as_filled_in_saying_why(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    admin_app.state.payment_provider = RecordingProvider()
    number = await seed_paid_order(admin_app)
    page = f"/admin/orders/{number}"
    wrong = await _act(
        operator,
        page,
        page + "/refund",
        {"password": "wrong password", "reason": "Burnt crust", "amount": "2.00", "line-1": "1"},
    )
    assert wrong.status_code == 403
    assert "That password is not right" in wrong.text
    form = wrong.text.split('id="refund"')[1]
    assert 'value="Burnt crust"' in form and 'value="2.00"' in form and 'value="1"' in form
    assert "wrong password" not in wrong.text  # never echoed
    assert 'aria-invalid="true"' in form and 'role="alert"' in form
    assert await _order_status(admin_app, number) == "paid"
    audit = (await operator.get("/admin")).text.split('class="admin-table audit"')[1]
    row = next(r for r in audit.split("<tr>") if f"{page}/refund" in r)
    assert "<td>refused</td>" in row


async def _refused_refunds(
    app: Starlette, operator: httpx.AsyncClient, asked: list[tuple[dict[str, str], str]]
) -> None:
    """Each refund form is answered with its message, and nothing is refunded."""
    provider = RecordingProvider()
    app.state.payment_provider = provider
    number = await seed_paid_order(app)
    page = f"/admin/orders/{number}"
    for fields, says in asked:
        form = {"password": PASSWORD, "reason": "Burnt crust", **fields}
        answer = await _act(operator, page, page + "/refund", form)
        assert answer.status_code == 303, answer.text
        assert says in (await operator.get(page)).text
    assert await _order_status(app, number) == "paid" and provider.refunded == []
    assert "Refunds asked for" not in (await operator.get(page)).text


async def test_a_refund_line_or_quantity_in_other_digits_is_the_forms_message(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    # A line the form cannot read is never taken as "no lines": that is a whole refund.
    asked = [({"line-\u00b2": "1"}, "is not a line")]
    asked += [({"line-1": quantity}, "is not a quantity") for quantity in ("\u00b2", "\u0661")]
    await _refused_refunds(admin_app, operator, asked)


async def test_a_refund_amount_must_be_plain_money_in_the_orders_currency(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    amounts = ["1e30", "NaN", "-2", "1" * 40]
    asked = [({"amount": amount}, "is not an amount") for amount in amounts]
    asked.append(({"amount": "1.005"}, "more decimals than GBP"))
    await _refused_refunds(admin_app, operator, asked)
