"""What a unit of work has read, kept for the rest of the unit: a memo that a rollback empties.

A unit that applies a batch (the inbox worker's) runs many handlers in one session, and
they read the same rows again and again: every Follow of a batch from one sender reads
that sender's follower row and cached inboxes. Code that reads and writes such a row
through Core (no identity map) keeps what it read and wrote in `unit_memo(session, name)`,
a dict living as long as the session. Any ROLLBACK in the session, a SAVEPOINT's too,
empties every memo of it, so nothing rolled back is remembered as written. Only the code
that writes a row may memo it, and every write to that row in the unit goes through it
(or forgets the entry).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_MEMOS = "rose_cart.memos"  # Session.info key: name -> dict


def _forget(session: Session, _previous: SessionTransaction) -> None:
    for memo in session.info.get(_MEMOS, {}).values():
        memo.clear()


def unit_memo(session: Session, name: str) -> dict[Any, Any]:
    """The session's memo called `name`, empty at first and after any rollback."""
    memos: dict[str, dict[Any, Any]] | None = session.info.get(_MEMOS)
    if memos is None:
        memos = session.info[_MEMOS] = {}
        event.listen(session, "after_soft_rollback", _forget)
    return memos.setdefault(name, {})
