"""How long the inbox keeps what it did not act on: the clean-up loop's rule.

An ignored delivery (a Like, a Note mentioning us) is kept only as a one-line record
(inbox/unhandled.py), for the operator's log. Anyone can send them, so the records are
bounded twice: by age (ROSE_CART_INBOX_IGNORED_DAYS) and by count
(ROSE_CART_INBOX_IGNORED_MAX, the newest kept). Their number is on /metrics as
`rose_cart_inbox_activities{status="ignored"}`.

Processed (`done`, `failed`) rows are the dedupe memory of activities that changed
something. A peer's stay. A stranger's (a sender outside PEERS) are bounded too, by
count (ROSE_CART_INBOX_STRANGERS_MAX, the newest kept): the strangers' budget lets
their Follows in at 20 a second, each up to 64 KiB (256 KiB if its key id claims a
peer's origin), which unbounded was up to 110 GB a day. A stranger's repeat that comes
after its row went is applied again, as if sent anew: only that sender can sign it, and
all a stranger may send (a Follow, an Undo of one, an Accept of ours, its actor's
Update or Delete) it may send anew at any time. An Undo of an older Follow, repeated
after the sender followed again, undoes that follow too.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete
from sqlalchemy.orm import Session

from inbox.models import InboxActivity, InboxStatus
from store import Database
from store.retention import delete_older, keep_newest, nth_newest

_PROCESSED = (InboxStatus.DONE, InboxStatus.FAILED)


def purge_ignored(session: Session, older_than: timedelta, keep: int, *, now: datetime) -> int:
    """Delete ignored records older than `older_than` at `now` (the clean-up loop's
    round), then all but the newest `keep`."""
    ignored = InboxActivity.status == InboxStatus.IGNORED
    cutoff = now - older_than
    aged = session.execute(
        delete(InboxActivity)
        .where(ignored, InboxActivity.received_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    # The id of the oldest record still kept; everything ignored below it goes.
    boundary = nth_newest(session, (InboxActivity.id,), ignored, keep)
    surplus = 0
    if boundary is not None:
        surplus = delete_older(session, InboxActivity, (InboxActivity.id,), ignored, boundary)
    return int(aged.rowcount) + surplus  # type: ignore[attr-defined]


def _strangers(peers: Collection[str]) -> ColumnElement[bool]:
    """Processed rows whose sender is not one of `peers`."""
    return and_(InboxActivity.status.in_(_PROCESSED), InboxActivity.ap_actor_id.not_in(list(peers)))


async def keep_strangers_newest(db: Database, keep: int, peers: Collection[str]) -> int:
    """The clean-up loop's rule: all but the newest `keep` processed rows of senders
    outside `peers` are deleted; returns how many."""
    return await keep_newest(db, InboxActivity, (InboxActivity.id,), _strangers(peers), keep)
