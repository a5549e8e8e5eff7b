"""How a page hands things over is taken from the page's own origin only, like its name."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import JSONResponse

from cart.catalog.fulfilment import DELIVERY, DefaultFulfilment, offered
from cart.catalog.models import key_for
from tests.inbox.test_page_ownership import loaf
from tests.support.inbox_peers import Served, deliver_and_process
from tests.support.peers import AS2, RemotePeer

FREE_DELIVERY = {"type": "Delivery", "name": "Free delivery anywhere", "area": "Anywhere"}
BIKE = {
    "type": "Delivery",
    "name": "Bike delivery",
    "area": "Within the ring road",
    "fee": {"type": "MonetaryAmount", "amount": "2.50", "currency": "GBP"},
}


async def _offers(served: Served, page: str):  # type: ignore[no-untyped-def]
    default = DefaultFulfilment(pickup=True)
    return await served.db.read(offered, key_for(page), datetime.now(UTC), default)


async def test_the_blogs_page_says_how_it_delivers_and_the_markets_word_is_not_taken(
    served: Served,
    market: RemotePeer,
    blog: RemotePeer,
) -> None:
    page = blog.app.url("/pages/bakery")
    blog.app.serve(
        "/pages/bakery",
        lambda _r: JSONResponse(
            {
                "@context": [
                    "https://www.w3.org/ns/activitystreams",
                    {
                        "rose": "https://rose-ash.com/ns#",
                        "Delivery": "rose:Delivery",
                        "area": "rose:area",
                        "fee": "rose:fee",
                        "amount": "rose:amount",
                        "currency": "rose:currency",
                        "MonetaryAmount": "rose:MonetaryAmount",
                        "fulfilment": {"@id": "rose:fulfilment", "@container": "@list"},
                    },
                ],
                "id": page,
                "type": "Page",
                "name": "The Bakery",
                "fulfilment": [BIKE],
            },
            media_type=AS2,
        ),
    )
    claim = loaf(market, {"id": page, "type": "Page", "fulfilment": [FREE_DELIVERY]})
    await deliver_and_process(served, market, market.activity("Create", claim))
    (before,) = await _offers(served, page)
    assert before.kind != DELIVERY  # the page has not said yet: the default, not the market

    assert await served.app.state.federation.pages.step() == 1
    (after,) = await _offers(served, page)
    assert (after.kind, after.name, after.place) == (
        DELIVERY,
        "Bike delivery",
        "Within the ring road",
    )
    assert after.fee is not None and str(after.fee.amount) == "2.50"
