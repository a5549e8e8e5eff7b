"""The outbox, followers and following collections, and each activity at its id.

Nothing we publish is public (PROTOCOL.md: never as:Public), so what a viewer sees
depends on who provably asks: a signed GET, checked by the verifier service/ puts at
`app.state.signed_get_verifier` (actor.authorized.signed_get_verifier). An activity is
shown to the actors it was addressed to and, when it went to our followers collection,
to accepted followers. Everyone gets the collections' summaries and counts; outbox pages
list only what the viewer may see (for an anonymous viewer: nothing). Follower and
following members are shown to nobody for now, only their counts.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import and_, exists, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actor.authorized import require_signed_get
from actor.identity import LocalActor
from actor.negotiation import AS2
from outbox.models import Follow, Follower, OutboxActivity, OutboxAudience
from outbox.states import FollowerState, FollowState
from vocab.contexts import outgoing_context

PAGE_SIZE = 20
_SIGNED = ("signature", "signature-input")


def _json(document: dict[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type=AS2)


async def viewer_of(request: Request) -> str | None:
    """The actor that signed this GET; None when unsigned. A bad signature is a 401."""
    verifier = getattr(request.app.state, "signed_get_verifier", None)
    if verifier is None or not any(name in request.headers for name in _SIGNED):
        return None
    return await require_signed_get(request, verifier)


async def _is_follower(session: AsyncSession, viewer: str | None) -> bool:
    if viewer is None:
        return False
    follower = await session.get(Follower, viewer)
    return follower is not None and follower.state == FollowerState.ACCEPTED


def _visible(viewer: str | None, follower: bool, actor: LocalActor) -> Any:
    if viewer is None:
        return false()
    addressed = [viewer, actor.followers] if follower else [viewer]
    return exists().where(
        OutboxAudience.activity_id == OutboxActivity.id, OutboxAudience.iri.in_(addressed)
    )


def _summary(collection_id: str, total: int, first: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": outgoing_context(),
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        document["first"] = first
    return document


async def outbox(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    async with request.app.state.db.sessions() as session:
        if request.query_params.get("page") != "true":
            total = await session.scalar(select(func.count()).select_from(OutboxActivity))
            return _json(_summary(actor.outbox, int(total or 0), f"{actor.outbox}?page=true"))
        viewer = await viewer_of(request)
        follower = await _is_follower(session, viewer)
        query = select(OutboxActivity.id, OutboxActivity.body).where(
            _visible(viewer, follower, actor)
        )
        before = request.query_params.get("max_id")
        if before is not None:
            if not before.isdigit():
                raise HTTPException(400, "max_id must be a number")
            query = query.where(OutboxActivity.id < int(before))
        rows = (
            await session.execute(query.order_by(OutboxActivity.id.desc()).limit(PAGE_SIZE + 1))
        ).all()
    page_id = f"{actor.outbox}?page=true" + (f"&max_id={before}" if before else "")
    document: dict[str, Any] = {
        "@context": outgoing_context(),
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": actor.outbox,
        "orderedItems": [_without_context(body) for _, body in rows[:PAGE_SIZE]],
    }
    if len(rows) > PAGE_SIZE:
        document["next"] = f"{actor.outbox}?page=true&max_id={rows[PAGE_SIZE - 1][0]}"
    return _json(document)


def _without_context(body: str) -> dict[str, Any]:
    item: dict[str, Any] = orjson.loads(body)
    item.pop("@context", None)
    return item


async def followers(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    async with request.app.state.db.sessions() as session:
        total = await session.scalar(
            select(func.count()).where(Follower.state == FollowerState.ACCEPTED)
        )
    return _json(_summary(actor.followers, int(total or 0), None))


async def following(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    async with request.app.state.db.sessions() as session:
        total = await session.scalar(
            select(func.count()).where(Follow.state == FollowState.ACCEPTED)
        )
    return _json(_summary(actor.following, int(total or 0), None))


async def activity(request: Request) -> Response:
    """The activity at its id, byte for byte what was delivered; only for its audience."""
    actor: LocalActor = request.app.state.actor
    ap_id = f"{actor.base_url}/activities/{request.path_params['id']}"
    viewer = await viewer_of(request)
    if viewer is None:
        raise HTTPException(
            401,
            "sign the request: activities are shown to their audience only",
            headers={"WWW-Authenticate": 'Signature realm="rose-cart"'},
        )
    async with request.app.state.db.sessions() as session:
        follower = await _is_follower(session, viewer)
        body = await session.scalar(
            select(OutboxActivity.body).where(
                and_(OutboxActivity.ap_id == ap_id, _visible(viewer, follower, actor))
            )
        )
    if body is None:
        # Not there, or not for this viewer: the same answer, so ids cannot be probed.
        raise HTTPException(404, "no such activity")
    return Response(body.encode(), media_type=AS2)


def outbox_routes() -> list[Route]:
    """Paths follow actor.identity.LocalActor's IRIs."""
    return [
        Route("/actor/outbox", outbox, methods=["GET"]),
        Route("/followers", followers, methods=["GET"]),
        Route("/following", following, methods=["GET"]),
        Route("/activities/{id}", activity, methods=["GET"]),
    ]
