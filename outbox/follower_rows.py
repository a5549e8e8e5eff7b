"""A follower's row as the inbox handlers read and write it: Core, remembered for the unit.

Per Follow, the ORM's flush of the follower row cost more than the rest of its handling
(docs/design.md, "Units of work"), so the handlers in outbox/followers.py read and write
the row through Core, statements built once. What they read and wrote is kept in the
unit's memo (store/memo.py): the Follows of one batch read their sender's row and
cached inboxes once, and a rollback forgets it all. Every write to a follower row in
the inbox worker's unit goes through `store_follower`, or forgets the memo's entry.

And they write it once per batch: a change of a row is put off to the batch's flush
(store/batching.py, before any activity other than a Follow and at the batch's end), and
only where the sender's last change leaves the row is written. One actor's flood of
Follows (bench/federation's shape, and an attacker's) rewrote its row once per Follow:
bench/inbox_apply's "one stranger" went from 0.057 to 0.032 ms of CPU a Follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from actor.remote import RemoteActorRow
from outbox.models import Follower
from store import batching, direct
from store.memo import unit_memo

FOLLOWERS_MEMO = "followers"
INBOXES_MEMO = "cached inboxes"

_FOLLOWERS = cast(Table, Follower.__table__)
_ACTORS = cast(Table, RemoteActorRow.__table__)
_FOLLOWER = select(
    _FOLLOWERS.c.follow_ap_id, _FOLLOWERS.c.earlier_follow_ids, _FOLLOWERS.c.state
).where(_FOLLOWERS.c.ap_actor_id == bindparam("sender"))
_CACHED_INBOXES = select(_ACTORS.c.inbox, _ACTORS.c.shared_inbox).where(
    _ACTORS.c.ap_id == bindparam("sender")
)
# A new follower's row, unless another worker's transaction just made it (PostgreSQL: two
# workers may apply two Follows of one new sender at once; a plain INSERT failed the
# loser's whole batch and retried it 10 s later).
_ADD_FOLLOWER = {
    "sqlite": sqlite_insert(_FOLLOWERS).on_conflict_do_nothing(index_elements=["ap_actor_id"]),
    "postgresql": pg_insert(_FOLLOWERS).on_conflict_do_nothing(index_elements=["ap_actor_id"]),
}
_CHANGE_FOLLOWER = (
    update(_FOLLOWERS)
    .where(_FOLLOWERS.c.ap_actor_id == bindparam("sender"))
    .values(
        follow_ap_id=bindparam("new_follow_ap_id"),
        earlier_follow_ids=bindparam("new_earlier", type_=_FOLLOWERS.c.earlier_follow_ids.type),
        state=bindparam("new_state"),
        # Only a move of its state dates the row (None: keep the date).
        updated_at=func.coalesce(
            bindparam("moved_at", type_=_FOLLOWERS.c.updated_at.type), _FOLLOWERS.c.updated_at
        ),
    )
)
_CHANGE_INBOXES = (
    update(_FOLLOWERS)
    .where(_FOLLOWERS.c.ap_actor_id == bindparam("sender"))
    .values(inbox=bindparam("new_inbox"), shared_inbox=bindparam("new_shared_inbox"))
)


@dataclass
class FollowerRow:
    """A follower as the inbox handlers see it: the columns they read and change."""

    ap_actor_id: str
    follow_ap_id: str
    earlier_follow_ids: list[str] | None
    state: str
    inboxes: tuple[str | None, str | None] | None = None  # as last copied in this unit


@dataclass(frozen=True)
class _Change:
    """A write of an existing follower row: `row` as it is to be, `before` as it was."""

    row: FollowerRow
    before: FollowerRow
    moved_at: datetime | None  # the state moved: dates the row


def _write_changes(session: Session, changes: list[_Change]) -> None:
    """Each sender's changes, in order, as one write: from the state before its first
    change to the state after its last, dated if any of them moved its state."""
    first: dict[str, _Change] = {}
    last: dict[str, _Change] = {}
    moved: dict[str, datetime] = {}
    for change in changes:
        sender = change.row.ap_actor_id
        first.setdefault(sender, change)
        last[sender] = change
        if change.moved_at is not None:
            moved[sender] = change.moved_at
    rows: list[dict[str, object]] = []
    inboxes: list[dict[str, object]] = []
    for sender, change in last.items():
        row, before = change.row, first[sender].before
        if sender in moved or (row.follow_ap_id, row.earlier_follow_ids, row.state) != (
            before.follow_ap_id,
            before.earlier_follow_ids,
            before.state,
        ):
            rows.append(
                {
                    "sender": sender,
                    "new_follow_ap_id": row.follow_ap_id,
                    "new_earlier": row.earlier_follow_ids,
                    "new_state": row.state,
                    "moved_at": moved.get(sender),
                }
            )
        if row.inboxes is not None and row.inboxes != before.inboxes:
            inbox, shared_inbox = row.inboxes
            inboxes.append({"sender": sender, "new_inbox": inbox, "new_shared_inbox": shared_inbox})
    for statement, values in ((_CHANGE_FOLLOWER, rows), (_CHANGE_INBOXES, inboxes)):
        if len(values) == 1:
            direct.execute(session, statement, values[0])
        elif values:
            direct.executemany(session, statement, values)


def follower_row(session: Session, sender: str) -> FollowerRow | None:
    memo = unit_memo(session, FOLLOWERS_MEMO)
    if sender not in memo:
        found = direct.fields(session, _FOLLOWER, {"sender": sender})
        memo[sender] = (
            FollowerRow(sender, found[0].follow_ap_id, found[0].earlier_follow_ids, found[0].state)
            if found
            else None
        )
    return cast(FollowerRow | None, memo[sender])


def cached_inboxes(session: Session, sender: str) -> tuple[str | None, str | None] | None:
    memo = unit_memo(session, INBOXES_MEMO)
    if sender not in memo:
        found = direct.rows(session, _CACHED_INBOXES, {"sender": sender})
        memo[sender] = (found[0][0], found[0][1]) if found else None
    return cast(tuple[str | None, str | None] | None, memo[sender])


def store_follower(
    session: Session, row: FollowerRow, before: FollowerRow | None, now: datetime
) -> bool:
    """Write `row` (new when `before` is None) and remember it as the unit's copy.

    False, writing nothing, when `before` is None but the row exists after all: another
    worker committed it since we read (the caller reads it again and starts over).
    A new row is written at once; a change of an existing one, in a unit that batches
    (the inbox worker's), at the batch's next flush, one write per row for all its
    changes. On SQLite through store/direct.py, SQLAlchemy's execution context skipped
    (~50 us a statement)."""
    if before is None:
        inbox, shared_inbox = row.inboxes or (None, None)
        added = direct.execute(
            session,
            _ADD_FOLLOWER[session.get_bind().dialect.name],
            {
                "ap_actor_id": row.ap_actor_id,
                "follow_ap_id": row.follow_ap_id,
                "earlier_follow_ids": row.earlier_follow_ids,
                "state": row.state,
                "inbox": inbox,
                "shared_inbox": shared_inbox,
                "created_at": now,
                "updated_at": now,
            },
        )
        if added != 1:
            unit_memo(session, FOLLOWERS_MEMO).pop(row.ap_actor_id, None)
            return False
    else:
        moved_at = now if row.state != before.state else None
        change = _Change(row, before, moved_at)
        # In the inbox worker's batch, only the last of a sender's changes is written,
        # once, when the batch flushes (store/batching.py): a flood of Follows from one
        # actor rewrote its row once per Follow, the most costly step of applying one.
        if not batching.defer(session, _write_changes, change):
            _write_changes(session, [change])
    unit_memo(session, FOLLOWERS_MEMO)[row.ap_actor_id] = row
    return True
