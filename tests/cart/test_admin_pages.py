"""The operator's admin pages in-process: who may see them, and what each page shows.

The fixtures are in tests/support/web_fixtures.py, the seeded state in admin_support.py.
"""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from cart.orders.contact import Contact
from cart.orders.models import ShopOrder
from outbox.models import Follower
from store import utcnow
from tests.cart.admin_support import (
    CALENDAR,
    COOP,
    MARKET,
    seed_federation,
    seed_paid_order,
)
from tests.cart.checkout_support import SHOPPER, checkout, fill, stock_shop
from tests.cart.web_support import register as register_shopper

ADMIN_PAGES = [
    "/admin",
    "/admin/peers",
    "/admin/follows",
    "/admin/mail",
    "/admin/deliveries",
    "/admin/inbox",
    "/admin/orders",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_anonymous_visitors_are_sent_to_log_in(
    anonymous: httpx.AsyncClient, path: str
) -> None:
    answer = await anonymous.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"


async def test_a_shopper_account_gets_403(anonymous: httpx.AsyncClient) -> None:
    await register_shopper(anonymous, "shopper@example.org")
    for path in ADMIN_PAGES:
        answer = await anonymous.get(path)
        assert answer.status_code == 403, path
        assert "Operators only" in answer.text


async def test_a_shopper_cannot_act_either(
    admin_app: Starlette, anonymous: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    await register_shopper(anonymous, "shopper@example.org")
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await anonymous.get("/")).text)
    assert token
    answer = await anonymous.post(
        "/admin/follows/accept", data={"csrf_token": token.group(1), "actor": COOP}
    )
    assert answer.status_code == 403
    async with admin_app.state.db.transaction() as session:
        assert (await session.get(Follower, COOP)).state == "pending"  # type: ignore[union-attr]


async def test_dashboard_counts_and_draws_charts(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    await seed_paid_order(admin_app)
    page = await operator.get("/admin")
    assert page.status_code == 200
    text = page.text
    assert "<strong>1</strong> follow request waiting" in text
    assert "<strong>1</strong> dead deliveries" in text
    assert "<strong>1</strong> failed inbox activities" in text
    assert "<strong>1</strong> paid orders" in text
    assert text.count('<figure class="chart">') == 2
    assert text.count('class="bar"') == 28  # 14 days, two charts
    assert "Orders placed per day: 1 in 14 days" in text
    today = utcnow()
    assert f"<title>{today.day} {today:%b}: 1</title>" in text  # today's bar of orders
    assert "Deliveries queued per day: 0 in 14 days" not in text
    assert "<script" not in text


async def test_peers_page_shows_role_follow_state_and_scheme(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    text = (await operator.get("/admin/peers")).text
    market_row = text[text.index(MARKET) :].split("</tr>")[0]
    assert "not sent" in market_row and "RFC 9421" in market_row and "UTC" in market_row
    calendar_row = text[text.index(CALENDAR) :].split("</tr>")[0]
    assert "not learned yet" in calendar_row and "never" in calendar_row
    assert "<td>market</td>" in text and "<td>calendar</td>" in text


async def test_follows_page_lists_requests_and_followers(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    text = (await operator.get("/admin/follows")).text
    waiting = text.split("<h2>Followers</h2>")[0]
    assert COOP in waiting and "Accept" in waiting and "Reject" in waiting
    assert "asks for your password again" in waiting or "ask for your password again" in waiting
    assert "https://old.example/actor" in text.split("<h2>Followers</h2>")[1]


async def test_deliveries_page_shows_states_hosts_and_dead(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    ids = await seed_federation(admin_app)
    text = (await operator.get("/admin/deliveries")).text
    assert "https://gone.example" in text and "unavailable" in text
    assert f'id="delivery-{ids["dead"]}"' in text
    assert "Service Unavailable" in text
    assert "Retry all dead deliveries" in text


async def test_inbox_log_shows_outcomes_and_explains_rejections(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    await seed_federation(admin_app)
    text = (await operator.get("/admin/inbox")).text
    assert "handler raised KeyError &#39;price&#39;" in text
    assert "ignored" in text and "Like" in text
    assert "rejected</strong> at the door" in text and "not stored, by design" in text
    failed_only = (await operator.get("/admin/inbox?status=failed")).text
    assert "Update(Product)" in failed_only and "<td>Like" not in failed_only


async def test_orders_search_and_detail(admin_app: Starlette, operator: httpx.AsyncClient) -> None:
    number = await seed_paid_order(admin_app)
    found = (await operator.get(f"/admin/orders?q={number}")).text
    assert f'href="/admin/orders/{number}"' in found
    paid = (await operator.get("/admin/orders?status=paid")).text
    assert f'href="/admin/orders/{number}"' in paid
    none = (await operator.get("/admin/orders?status=refunded")).text
    assert "No orders match." in none
    assert "No orders match." in (await operator.get("/admin/orders?q=banana")).text
    detail = await operator.get(f"/admin/orders/{number}")
    assert detail.status_code == 200
    assert "Payment received" in detail.text and "Refund" in detail.text
    assert '<a href="/admin">Admin</a>' in detail.text and "Your orders" in detail.text
    assert (await operator.get("/admin/orders/RA-999999")).status_code == 404


async def test_orders_are_found_by_customer_email_or_name_with_their_contact_shown(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    db = admin_app.state.db
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    await checkout(db, contact=Contact("Grace Hopper", "Grace@Example.org", "01632 960001"))
    for query in ("grace@example.org", "hopper", "GRACE h"):
        listing = (await operator.get("/admin/orders", params={"q": query})).text
        assert "RA-000001" in listing and "Grace@Example.org" in listing, query
    nobody = (await operator.get("/admin/orders", params={"q": "ada@example.org"})).text
    assert "RA-000001" not in nobody
    wildcard = (await operator.get("/admin/orders", params={"q": "%"})).text
    assert "RA-000001" not in wildcard  # a % is a character, not a wildcard
    detail = (await operator.get("/admin/orders/RA-000001")).text
    assert "Grace Hopper" in detail and "01632 960001" in detail
    assert "Waiting for payment" in detail  # the status in words


async def test_operators_download_the_orders_and_a_packing_list_as_csv(
    admin_app: Starlette, operator: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    number = await seed_paid_order(admin_app)
    async with admin_app.state.db.transaction() as session:
        order = (await session.execute(select(ShopOrder))).scalar_one()
        order.contact_name, order.contact_email = "=HYPERLINK(1)", "eve@example.org"
        page_key = order.page_key
    listing = (await operator.get("/admin/orders")).text
    assert f"/admin/packing.csv?page={page_key}" in listing
    orders = await operator.get("/admin/orders.csv", params={"q": "eve@example.org"})
    assert orders.headers["content-type"].startswith("text/csv")
    assert "attachment" in orders.headers["content-disposition"]
    header, row = list(csv.reader(io.StringIO(orders.text)))
    assert header[:5] == ["number", "placed_utc", "shop", "customer", "email"]
    assert row[0] == number and row[3] == "'=HYPERLINK(1)" and row[4] == "eve@example.org"
    packing = await operator.get("/admin/packing.csv", params={"page": page_key})
    rows = list(csv.reader(io.StringIO(packing.text)))
    assert rows[0][3:9] == ["customer", "email", "phone", "deliver_to", "order", "item"]
    assert [r[7] for r in rows[1:]] and {r[7] for r in rows[1:]} == {number}
    # What the query asked for names the file, in characters a header can carry.
    for slot, named in (("\u20ac", "-"), ("\r\nX-Injected: y", "-X-Injected-y"), ("a\x01b", "a-b")):
        odd = await operator.get("/admin/packing.csv", params={"page": page_key, "slot": slot})
        assert odd.status_code == 200 and odd.text.startswith("handover,")
        disposition = f'attachment; filename="packing-{page_key}-{named}.csv"'
        assert odd.headers["content-disposition"] == disposition
        assert "x-injected" not in odd.headers
    assert (await anonymous.get("/admin/packing.csv", params={"page": page_key})).status_code in (
        303,
        403,
    )
