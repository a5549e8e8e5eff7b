"""The whole purchase over real HTTP: cart -> checkout -> SumUp sandbox's hosted page ->
Pay -> SumUp's webhook to our server -> order paid -> OrderPaid delivered to a follower
on loopback, which verifies our signature."""

from __future__ import annotations

from pathlib import Path

import httpx

from cart.web.checkout_routes import checkout_routes
from cart.web.orders_routes import orders_routes
from outbox.worker import DeliveryWorker
from service.app import create_app
from service.settings import Settings
from tests.cart.checkout_support import BAKERY_KEY, orders
from tests.cart.web_support import csrf_token, seed, with_cart_routes
from tests.conftest import TEST_SECRET
from tests.outbox.support import LOOPBACK, Receiver, add_follower, signature_auth
from tests.payments.support import press, running_sandbox
from tests.support.factories import product
from tests.support.loopback import free_socket, origin_of, serving


async def test_a_purchase_end_to_end_ends_in_a_signed_order_paid_at_a_follower(
    tmp_path: Path, database_url: str
) -> None:
    sock = free_socket()
    origin = origin_of(sock)
    settings = Settings(
        base_url=origin,
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=TEST_SECRET,
        workers=False,
        allow_private_addresses=True,
    )
    app = create_app(settings)
    app.router.routes[0:0] = [*checkout_routes(), *orders_routes()]
    with_cart_routes(app)
    async with running_sandbox() as sumup, app.router.lifespan_context(app):
        app.state.payment_provider = sumup.client
        sumup.sandbox.allow_origin(origin)
        follower = Receiver(app.state.actor)
        async with (
            serving(follower, lifespan="off") as follower_origin,
            serving(app, sock, lifespan="off"),
        ):
            follower.base_url = follower_origin
            db = app.state.db
            await add_follower(db, f"{follower_origin}/actor", f"{follower_origin}/inbox")
            (loaf,) = await seed(app, product(42))

            async with httpx.AsyncClient(base_url=origin, timeout=10) as shopper:
                page = await shopper.get("/")
                added = await shopper.post(
                    "/cart/lines",
                    data={"csrf_token": csrf_token(page.text), "item": loaf, "quantity": "2"},
                )
                assert added.status_code == 303
                cart = await shopper.get(f"/cart/page/{BAKERY_KEY}")
                to_pay = await shopper.post(
                    f"/cart/page/{BAKERY_KEY}/checkout",
                    data={"csrf_token": csrf_token(cart.text)},
                )
                assert to_pay.status_code == 303
                paid = await press(sumup.browser, to_pay.headers["location"], "pay")
                await sumup.sandbox.webhooks.drain()  # SumUp's webhook has reached us

                (order,) = await orders(db)
                assert order.status == "paid"  # before the shopper's browser came back
                back = await shopper.get(paid.headers["location"])
                assert "is paid" in back.text

            worker = DeliveryWorker(db, signature_auth(app.state.actor), LOOPBACK)
            try:
                while await worker.step():
                    pass
            finally:
                await worker.aclose()

    kinds = [(a.body["type"], a.verified, a.independently_verified) for a in follower.arrivals]
    assert kinds == [("Create", True, True), (["Activity", "OrderPaid"], True, True)]
    order_paid = follower.arrivals[1].body
    assert order_paid["object"] == order.ap_id and order_paid["total"]["amount"] == "7.00"
