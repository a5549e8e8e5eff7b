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
`Session`); `publish` runs it in an async session for callers not yet converted. It is
Core, statements built once per process: the activity (INSERT ... RETURNING id), its
audience and its deliveries as one executemany each, the targets' inboxes (cached
actors and accepted followers together) in one SELECT. Checkout waits on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import (
    CompoundSelect,
    Select,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    union_all,
)
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
from store import batching, direct, utcnow, wake

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


ACTIVITIES = cast(Table, OutboxActivity.__table__)
AUDIENCE = cast(Table, OutboxAudience.__table__)
DELIVERIES = cast(Table, OutboxDelivery.__table__)
_ACTORS = cast(Table, RemoteActorRow.__table__)
_FOLLOWERS = cast(Table, Follower.__table__)
# Built once per process: each row is (recipient, inbox or None, from our followers?).
# An empty shared inbox counts as none (as `shared or inbox` did before these were SQL).
_CACHED_ACTORS = select(
    _ACTORS.c.ap_id,
    func.coalesce(func.nullif(_ACTORS.c.shared_inbox, ""), _ACTORS.c.inbox),
    literal_column("0"),
).where(_ACTORS.c.ap_id.in_(bindparam("iris", expanding=True)), _ACTORS.c.gone_at.is_(None))
_ACCEPTED_FOLLOWERS = select(
    _FOLLOWERS.c.ap_actor_id,
    func.coalesce(func.nullif(_FOLLOWERS.c.shared_inbox, ""), _FOLLOWERS.c.inbox),
    literal_column("1"),
).where(_FOLLOWERS.c.state == FollowerState.ACCEPTED.value)
_BOTH = union_all(_CACHED_ACTORS, _ACCEPTED_FOLLOWERS)
_NEW_ACTIVITY = insert(ACTIVITIES).returning(ACTIVITIES.c.id)
_NEW_AUDIENCE = insert(AUDIENCE)
_NEW_DELIVERIES = insert(DELIVERIES)


def _targets(
    session: Session, iris: list[str], followers: bool
) -> tuple[dict[str, str | None], list[tuple[str | None, str]]]:
    """The named actors' cached inboxes (an actor not cached is absent) and, with
    `followers`, every accepted follower's (inbox, recipient): one SELECT."""
    if not iris and not followers:
        return {}, []
    params: dict[str, Any] = {"iris": iris}
    query: Select[Any] | CompoundSelect[Any]
    if not followers:
        query = _CACHED_ACTORS
    elif not iris:
        query = _ACCEPTED_FOLLOWERS
    else:
        query = _BOTH
    cached: dict[str, str | None] = {}
    found: list[tuple[str | None, str]] = []
    for recipient, inbox, follower in direct.rows(session, query, params):
        if follower:
            found.append((inbox, recipient))
        else:
            cached[recipient] = inbox
    return cached, found


@dataclass(frozen=True)
class Published:
    """An activity as `publish` stored it: its row's values, as a plain object.

    Not an OutboxActivity: building an ORM instance (its state, each attribute through
    the instrumentation) for every publish was ~2 % of a checkout's CPU (bench checkout,
    py-spy), and no caller loads it into a session or follows its relationships.
    """

    id: int
    ap_id: str
    activity_type: str
    body: str
    published_at: datetime


async def publish(
    session: AsyncSession,
    activity: dict[str, Any],
    audience: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> Published:
    """`publish_sync` in an async session's transaction."""
    return await session.run_sync(publish_sync, activity, audience, now=now)


def publish_sync(
    session: Session,
    activity: dict[str, Any],
    audience: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> Published:
    """Store `activity` (which must carry its `id`) and one delivery per target inbox.

    `audience` defaults to the activity's own to/cc. Our followers collection is
    recognised as the one beside the activity's `actor`; as:Public and our own actor
    are never delivery targets.
    """
    return publish_many_sync(session, [(activity, audience)], now=now)[0]


@dataclass
class _Planned:
    activity_id: int
    values: dict[str, Any]
    actors: list[str]
    followers: bool


def _plan(
    session: Session, activity: dict[str, Any], audience: Iterable[str] | None, now: datetime
) -> tuple[_Planned, list[dict[str, Any]]]:
    """Store the activity's row; its stored values, targets and audience rows."""
    ap_id = activity.get("id")
    actor = activity.get("actor")
    if not isinstance(ap_id, str) or not isinstance(actor, str):
        raise InvalidActivity("an activity needs an `id` and an `actor` before it is published")
    kind = activity.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    named = [k for k in kinds if isinstance(k, str)]
    targets_iris = list(dict.fromkeys(audience if audience is not None else audience_of(activity)))
    body = orjson.dumps(activity).decode()
    activity_type = named[-1] if named else "Activity"
    values = {"ap_id": ap_id, "activity_type": activity_type, "body": body, "published_at": now}
    activity_id = direct.scalar(session, _NEW_ACTIVITY, values)
    addressed = dict.fromkeys([*audience_of(activity), *targets_iris])
    followers = _followers_collection(activity)
    actors = [i for i in targets_iris if i not in AS_PUBLIC and i != followers and i != actor]
    planned = _Planned(activity_id, values, actors, followers in targets_iris)
    return planned, [{"activity_id": activity_id, "iri": iri} for iri in addressed]


def publish_many_sync(
    session: Session,
    activities: Sequence[tuple[dict[str, Any], Iterable[str] | None]],
    *,
    now: datetime | None = None,
) -> list[Published]:
    """`publish_sync` for each (activity, audience) in turn, the same rows in the same
    order, with the statements shared: one audience and one delivery executemany, and
    one SELECT of every activity's targets (the inbox worker's batch of Accepts)."""
    planned = _publish_many(session, activities, now or utcnow())
    return [Published(id=plan.activity_id, **plan.values) for plan in planned]


def _publish_many(
    session: Session,
    activities: Sequence[tuple[dict[str, Any], Iterable[str] | None]],
    now: datetime,
) -> list[_Planned]:
    planned: list[_Planned] = []
    audience_rows: list[dict[str, Any]] = []
    for activity, audience in activities:
        plan, addressed = _plan(session, activity, audience, now)
        planned.append(plan)
        audience_rows += addressed
    if audience_rows:
        direct.executemany(session, _NEW_AUDIENCE, audience_rows)
    named = list(dict.fromkeys(iri for plan in planned for iri in plan.actors))
    cached, followers = _targets(session, named, any(plan.followers for plan in planned))
    rows: list[dict[str, Any]] = []
    for plan in planned:
        rows += _deliveries(plan, cached, followers, now)
    if rows:
        direct.executemany(session, _NEW_DELIVERIES, rows)
        wake(session, DELIVERIES_CHANNEL)
    return planned


def _deliveries(
    plan: _Planned,
    cached: dict[str, str | None],
    followers: list[tuple[str | None, str]],
    now: datetime,
) -> list[dict[str, Any]]:
    """One delivery row per target inbox, then one per actor not cached yet."""
    targets = [(cached.get(iri), iri) for iri in plan.actors]
    inboxes: set[str] = set()
    unresolved: set[str] = set()
    for inbox, recipient in targets + (followers if plan.followers else []):
        if inbox is None:
            unresolved.add(recipient)
        elif inbox not in inboxes:
            inboxes.add(inbox)
    base = {
        "activity_id": plan.activity_id,
        "status": DeliveryState.PENDING,
        "attempts": 0,
        "created_at": now,
        "retry_from": now,
        "next_attempt_at": now,
    }
    rows = [{**base, "inbox": i, "host": origin_of(i), "recipient": None} for i in sorted(inboxes)]
    rows += [{**base, "inbox": None, "host": None, "recipient": r} for r in sorted(unresolved)]
    return rows


def publish_later(session: Session, activity: dict[str, Any], *, now: datetime) -> None:
    """`publish_sync(session, activity, now=now)`, put off to the unit's next flush when
    the unit batches (the inbox worker's, store/batching.py), else at once."""
    if not batching.defer(session, _publish_all, (activity, now)):
        publish_sync(session, activity, now=now)


def _publish_all(session: Session, deferred: list[tuple[dict[str, Any], datetime]]) -> None:
    """What `publish_later` put off, in order: one `publish_many_sync` per run of one `now`."""
    for now, run in groupby(deferred, key=itemgetter(1)):
        # No OutboxActivity objects: nobody reads them (~8 % of a co-op Follow's apply).
        _publish_many(session, [(activity, None) for activity, _ in run], now)
