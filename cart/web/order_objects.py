"""An order at its IRI, for other servers: AS2 JSON behind a signed GET.

docs/protocol.md: orders dereference, like activities, to followers and to the actors the
order involves (the owners of its items), checked by authorized fetch. Anyone else gets
the same 404 as for an order that does not exist, so order ids cannot be probed.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from actor.authorized import UNAUTHORIZED
from actor.identity import LocalActor
from actor.negotiation import AS2
from cart.orders.models import ShopOrder
from cart.orders.orders import items_of, order_object
from outbox.collections import viewer_of
from outbox.models import Follower
from outbox.states import FollowerState
from vocab.writer import document


async def order_document(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    viewer = await viewer_of(request)
    if viewer is None:
        raise HTTPException(
            401,
            "sign the request: orders are shown to followers and the actors they involve",
            headers=UNAUTHORIZED,
        )
    public_id = request.path_params["number"]
    async with request.app.state.db.sessions() as session:
        order = await session.scalar(select(ShopOrder).where(ShopOrder.public_id == public_id))
        items = await items_of(session, order.id) if order is not None else []
        follower = await session.get(Follower, viewer)
    involved = {item.ap_actor_id for item in items}
    allowed = viewer in involved or (
        follower is not None and follower.state == FollowerState.ACCEPTED
    )
    if order is None or not allowed:
        raise HTTPException(404, "no such order")
    body = document(order_object(order, items, actor))
    return Response(orjson.dumps(body), media_type=AS2, headers={"Vary": "Accept"})
