"""How long the inbox keeps what it did not act on: the clean-up loop's rule.

An ignored delivery (a Like, a Note mentioning us) is kept only as a one-line record
(inbox/unhandled.py), for the operator's log. Anyone can send them, so the records are
bounded twice: by age (ROSE_CART_INBOX_IGNORED_DAYS) and by count
(ROSE_CART_INBOX_IGNORED_MAX, the newest kept). Their number is on /metrics as
`rose_cart_inbox_activities{status="ignored"}`.

Processed (`done`, `failed`) rows are the dedupe memory of activities that changed
something. A peer's stay. A stranger's (a sender outside PEERS) are bounded too, by
count (ROSE_CART_INBOX_STRANGERS_MAX, the newest kept): the strangers' budget lets
their Follows in at 20 a second, each up to 64 KiB, which unbounded was up to 110 GB
a day. A stranger's repeat that comes after its row went is applied again, which leaves
each of what a stranger may send (a Follow, an Undo of it, an Accept of ours, its
actor's Update or Delete) as it was.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete
from sqlalchemy.orm import Session

from inbox.models import InboxActivity, InboxStatus
from store.retention import delete_older, nth_newest

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
    boundary = nth_newest(session, InboxActivity.id, ignored, keep)
    surplus = 0
    if boundary is not None:
        surplus = delete_older(session, InboxActivity, InboxActivity.id, ignored, boundary)
    return int(aged.rowcount) + surplus  # type: ignore[attr-defined]


def _strangers(peers: Collection[str]) -> ColumnElement[bool]:
    """Processed rows whose sender is not one of `peers`."""
    return and_(InboxActivity.status.in_(_PROCESSED), InboxActivity.ap_actor_id.not_in(list(peers)))


def strangers_boundary(session: Session, keep: int, peers: Collection[str]) -> int | None:
    """A read unit: the id of the oldest of the newest `keep` processed rows of senders
    outside `peers` (None: no more than `keep` of them)."""
    boundary: int | None = nth_newest(session, InboxActivity.id, _strangers(peers), keep)
    return boundary


def purge_strangers(session: Session, boundary: int, peers: Collection[str]) -> int:
    """A unit: delete the processed rows of senders outside `peers` older than
    `boundary` (from `strangers_boundary`); returns how many."""
    return delete_older(session, InboxActivity, InboxActivity.id, _strangers(peers), boundary)
