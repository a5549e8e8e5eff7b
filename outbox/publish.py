"""The transactional outbox: `publish()` writes an activity and its deliveries together.

It runs in the caller's transaction, so an order and the `Create` announcing it commit
or vanish together: a rollback publishes nothing. It never touches the network.
Targets are worked out from what the database already holds:

- our followers collection expands to every accepted follower's inbox, the shared
  inbox preferred, as copied from the actor cache when the follow arrived;
- an actor IRI becomes its (shared) inbox from the remote actor cache; an actor not
  cached yet gets a delivery row "to resolve" (`inbox` NULL) that the worker resolves
  before sending;
- duplicates collapse: one row per inbox, however many followers share it.

`publish_sync` is the function itself, for units of work and inbox handlers (a sync
`Session`); `publish` runs it in an async session for callers not yet converted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from actor.origin import origin_of
from actor.remote import RemoteActorRow
from outbox.exceptions import InvalidActivity
from outbox.models import (
    DELIVERIES_CHANNEL,
    Follower,
    OutboxActivity,
    OutboxAudience,
    OutboxDelivery,
)
from outbox.states import DeliveryState, FollowerState
from store import utcnow, wake

AS_PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}


def new_activity_id(actor: LocalActor) -> str:
    """A fresh, stable IRI for an activity we are about to publish."""
    return f"{actor.base_url}/activities/{uuid.uuid4().hex}"


def audience_of(activity: dict[str, Any]) -> list[str]:
    """The activity's to/cc/bto/bcc/audience IRIs, in order, without repeats."""
    seen: list[str] = []
    for key in ("to", "cc", "bto", "bcc", "audience"):
        value = activity.get(key)
        for iri in value if isinstance(value, list) else [value]:
            if isinstance(iri, str) and iri not in seen:
                seen.append(iri)
    return seen


def _followers_collection(activity: dict[str, Any]) -> str | None:
    actor = activity.get("actor")
    if not isinstance(actor, str) or not actor.endswith("/actor"):
        return None
    return actor[: -len("/actor")] + "/followers"


def _follower_targets(session: Session) -> list[tuple[str | None, str]]:
    rows = session.execute(
        select(Follower.ap_actor_id, Follower.inbox, Follower.shared_inbox).where(
            Follower.state == FollowerState.ACCEPTED
        )
    )
    return [(shared or inbox, ap_id) for ap_id, inbox, shared in rows.all()]


def _actor_targets(session: Session, iris: list[str]) -> list[tuple[str | None, str]]:
    if not iris:
        return []
    rows = session.execute(
        select(RemoteActorRow.ap_id, RemoteActorRow.inbox, RemoteActorRow.shared_inbox).where(
            RemoteActorRow.ap_id.in_(iris), RemoteActorRow.gone_at.is_(None)
        )
    )
    cached = {ap_id: shared or inbox for ap_id, inbox, shared in rows.all()}
    return [(cached.get(iri), iri) for iri in iris]


async def publish(
    session: AsyncSession,
    activity: dict[str, Any],
    audience: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> OutboxActivity:
    """`publish_sync` in an async session's transaction."""
    return await session.run_sync(publish_sync, activity, audience, now=now)


def publish_sync(
    session: Session,
    activity: dict[str, Any],
    audience: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> OutboxActivity:
    """Store `activity` (which must carry its `id`) and one delivery per target inbox.

    `audience` defaults to the activity's own to/cc. Our followers collection is
    recognised as the one beside the activity's `actor`; as:Public and our own actor
    are never delivery targets.
    """
    ap_id = activity.get("id")
    actor = activity.get("actor")
    if not isinstance(ap_id, str) or not isinstance(actor, str):
        raise InvalidActivity("an activity needs an `id` and an `actor` before it is published")
    kind = activity.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    named = [k for k in kinds if isinstance(k, str)]
    targets_iris = list(dict.fromkeys(audience if audience is not None else audience_of(activity)))
    now = now or utcnow()
    row = OutboxActivity(
        ap_id=ap_id,
        activity_type=named[-1] if named else "Activity",
        body=orjson.dumps(activity).decode(),
        published_at=now,
    )
    session.add(row)
    session.flush()
    addressed = dict.fromkeys([*audience_of(activity), *targets_iris])
    session.add_all(OutboxAudience(activity_id=row.id, iri=iri) for iri in addressed)

    followers = _followers_collection(activity)
    actors = [i for i in targets_iris if i not in AS_PUBLIC and i != followers and i != actor]
    targets = _actor_targets(session, actors)
    if followers in targets_iris:
        targets += _follower_targets(session)
    inboxes: set[str] = set()
    unresolved: set[str] = set()
    for inbox, recipient in targets:
        if inbox is None:
            unresolved.add(recipient)
        elif inbox not in inboxes:
            inboxes.add(inbox)
    base = {
        "activity_id": row.id,
        "status": DeliveryState.PENDING,
        "attempts": 0,
        "created_at": now,
        "retry_from": now,
        "next_attempt_at": now,
    }
    values = [
        {**base, "inbox": i, "host": origin_of(i), "recipient": None} for i in sorted(inboxes)
    ]
    values += [{**base, "inbox": None, "host": None, "recipient": r} for r in sorted(unresolved)]
    if values:
        session.execute(insert(OutboxDelivery), values)
        wake(session, DELIVERIES_CHANNEL)
    return row
