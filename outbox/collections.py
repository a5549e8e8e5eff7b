"""The outbox, followers and following collections, and each activity at its id.

Nothing we publish is public (docs/protocol.md: never as:Public), so what a viewer sees
depends on who provably asks: a signed GET, checked by the verifier service/ puts at
`app.state.signed_get_verifier` (actor.authorized.signed_get_verifier). An activity is
shown to the actors it was addressed to and, when it went to our followers collection,
to accepted followers. The outbox's `totalItems` and pages count and list only what the
viewer may see (for an anonymous viewer: nothing). Followers and following show their
counts to everyone and their members to followers and peers; anyone else gets an empty
first page. Every `first` we advertise answers 200 for every viewer: a client that
walks a collection (Fedify's traverseCollection) must not meet a 401 on our own link.

Who asks is settled first (checking a signature may fetch an unknown key over the
network), and only then is the database read, in one unit of work (store/units.py): a
request never holds a connection while it waits for another server (issue 14).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import and_, exists, false, func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actor.authorized import UNAUTHORIZED, HeldKeys, claimed_key_id, require_signed_get
from actor.identity import LocalActor
from actor.negotiation import AS2
from outbox.models import Follow, Follower, OutboxActivity, OutboxAudience
from outbox.states import FollowerState, FollowState
from vocab.contexts import outgoing_context
from vocab.numbers import parse_natural

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


def _is_follower(session: Session, viewer: str | None) -> bool:
    if viewer is None:
        return False
    follower = session.get(Follower, viewer)
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


def _outbox_count(session: Session, actor: LocalActor, viewer: str | None) -> int:
    follower = _is_follower(session, viewer)
    query = select(func.count()).select_from(OutboxActivity)
    return int(session.scalar(query.where(_visible(viewer, follower, actor))) or 0)


def _outbox_page(
    session: Session, actor: LocalActor, viewer: str | None, before: int | None
) -> list[tuple[int, str]]:
    follower = _is_follower(session, viewer)
    query = select(OutboxActivity.id, OutboxActivity.body).where(_visible(viewer, follower, actor))
    if before is not None:
        query = query.where(OutboxActivity.id < before)
    rows = session.execute(query.order_by(OutboxActivity.id.desc()).limit(PAGE_SIZE + 1))
    return [(row_id, body) for row_id, body in rows.all()]


async def outbox(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    db = request.app.state.db
    before = request.query_params.get("max_id")
    below = parse_natural(before) if before is not None else None
    if before is not None and below is None:
        raise HTTPException(400, "max_id must be a number")
    viewer = await viewer_of(request)  # may fetch the signer's key: no unit is open
    if request.query_params.get("page") != "true":
        total = await db.read(_outbox_count, actor, viewer)
        return _json(_summary(actor.outbox, total, f"{actor.outbox}?page=true"))
    rows = await db.read(_outbox_page, actor, viewer, below)
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


def _members_page(
    session: Session, members: Any, total: Any, viewer: str | None, peer: bool, number: int
) -> tuple[int, list[str]]:
    """The count, and page `number` of the members if this viewer may see them.

    Members are shown to a signed viewer who follows us or is one of our peers (`peer`:
    in `app.state.peer_iris`, the configured PEERS). Who follows a co-op's cart, and whom
    it follows, is the co-op's business: the counts are public, the names are not.
    Anyone else is not refused (the page is one we advertise) but sees no members.
    """
    count = int(session.scalar(total) or 0)
    if viewer is None or not (peer or _is_follower(session, viewer)):
        return count, []
    rows = session.execute(members.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    return count, list(rows.scalars())


async def _member_viewer(request: Request) -> str | None:
    """Who signed a read of the members, when it could matter; None reads as unsigned.

    Members are shown to followers and peers only. We keep every follower's actor, keys
    and all, while it follows (actor/remote_retention.py) and fetch a peer's, so a key we
    would have to fetch from anyone else could show nothing more than the anonymous page:
    it is not fetched, and the request is answered as unsigned. A made-up key per request
    made us fetch each (issue 14, bench/hostile followers-unknown-key). Not covered: a
    follower whose keyId is no fragment of its actor (GoToSocial's `.../main-key`) is
    found through a row retention does not keep, so an hour after we last fetched it, it
    reads the anonymous page until a delivery of its makes us fetch the key again.
    """
    keys: HeldKeys | None = getattr(request.app.state, "signer_keys", None)
    key_id = claimed_key_id(request)
    if keys is not None and key_id is not None and not await keys.holds(key_id):
        return None
    return await viewer_of(request)


def _count(session: Session, total: Any) -> int:
    return int(session.scalar(total) or 0)


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "")
    if value == "true":
        return 1
    number = parse_natural(value, max_digits=6)
    if number is None or not 1 <= number <= 100_000:
        raise HTTPException(400, "page must be true or a page number from 1")
    return number


async def _member_collection(
    request: Request, collection_id: str, members: Any, total: Any
) -> Response:
    db = request.app.state.db
    if "page" not in request.query_params:
        count = await db.read(_count, total)
        return _json(_summary(collection_id, count, f"{collection_id}?page=1"))
    number = _page_number(request)  # cheap checks first
    viewer = await _member_viewer(request)  # may fetch a peer's key: no unit is open
    peers: frozenset[str] = getattr(request.app.state, "peer_iris", frozenset())
    count, rows = await db.read(_members_page, members, total, viewer, viewer in peers, number)
    document: dict[str, Any] = {
        "@context": outgoing_context(),
        "id": f"{collection_id}?page={number}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": count,
        "orderedItems": list(rows[:PAGE_SIZE]),
    }
    if len(rows) > PAGE_SIZE:
        document["next"] = f"{collection_id}?page={number + 1}"
    return _json(document)


async def followers(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    accepted = Follower.state == FollowerState.ACCEPTED
    members = (
        select(Follower.ap_actor_id)
        .where(accepted)
        .order_by(Follower.created_at, Follower.ap_actor_id)
    )
    return await _member_collection(
        request, actor.followers, members, select(func.count()).where(accepted)
    )


async def following(request: Request) -> Response:
    actor: LocalActor = request.app.state.actor
    accepted = Follow.state == FollowState.ACCEPTED
    members = (
        select(Follow.ap_object_id).where(accepted).order_by(Follow.created_at, Follow.ap_object_id)
    )
    return await _member_collection(
        request, actor.following, members, select(func.count()).where(accepted)
    )


def _activity_body(session: Session, actor: LocalActor, ap_id: str, viewer: str) -> str | None:
    follower = _is_follower(session, viewer)
    return session.scalar(
        select(OutboxActivity.body).where(
            and_(OutboxActivity.ap_id == ap_id, _visible(viewer, follower, actor))
        )
    )


async def activity(request: Request) -> Response:
    """The activity at its id, byte for byte what was delivered; only for its audience."""
    actor: LocalActor = request.app.state.actor
    ap_id = f"{actor.base_url}/activities/{request.path_params['id']}"
    viewer = await viewer_of(request)
    if viewer is None:
        raise HTTPException(
            401,
            "sign the request: activities are shown to their audience only",
            headers=UNAUTHORIZED,
        )
    body = await request.app.state.db.read(_activity_body, actor, ap_id, viewer)
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
