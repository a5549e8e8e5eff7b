"""An order at its IRI, for other servers: AS2 JSON behind a signed GET.

docs/protocol.md: orders dereference, like activities, to followers and to the actors the
order involves (the owners of its items), checked by authorized fetch. Anyone else gets
the same 404 as for an order that does not exist, so order ids cannot be probed.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from actor.authorized import UNAUTHORIZED
from actor.identity import LocalActor
from actor.negotiation import AS2
from cart.orders.models import ShopOrder
from cart.orders.moves import items_of
from cart.orders.orders import order_object
from outbox.collections import viewer_of
from outbox.models import Follower
from outbox.states import FollowerState
from vocab.writer import document


async def order_document(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        raise HTTPException(
            401,
            "sign the request: orders are shown to followers and the actors they involve",
            headers=UNAUTHORIZED,
        )
    body = await request.app.state.db.read(
        _order_for, request.path_params["number"], viewer, request.app.state.actor
    )
    if body is None:
        raise HTTPException(404, "no such order")
    return Response(orjson.dumps(body), media_type=AS2, headers={"Vary": "Accept"})


def _order_for(
    session: Session, public_id: str, viewer: str, actor: LocalActor
) -> dict[str, object] | None:
    """A read unit: the order's document if `viewer` may see it, else None (whether the
    order exists or not)."""
    order = session.scalar(select(ShopOrder).where(ShopOrder.public_id == public_id))
    if order is None:
        return None
    items = items_of(session, order.id)
    follower = session.get(Follower, viewer)
    allowed = viewer in {item.ap_actor_id for item in items} or (
        follower is not None and follower.state == FollowerState.ACCEPTED
    )
    return document(order_object(order, items, actor)) if allowed else None
