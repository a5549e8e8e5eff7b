"""Writes a unit of work may put off and run together: a batch unit's collected calls.

The inbox worker's apply unit runs many handlers in one session. A handler whose write
costs less done many at once (the outbox's publish of an Accept) hands it to `defer`;
inside a unit that batches (between `start` and `stop`), it is kept and run by `flush`
as one call with every item kept so far, in order, within the same transaction, so it
commits or rolls back with the rest of the unit. Outside one, `defer` returns False and
the caller writes at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

_KEY = "rose_cart.batching"  # Session.info key: run_many -> items kept, in order

RunMany = Callable[[Session, list[Any]], object]


def start(session: Session) -> None:
    """From now on `defer` in this session keeps its items for `flush`."""
    session.info[_KEY] = {}


def defer(session: Session, run_many: RunMany, item: Any) -> bool:
    """Keep `item` for `run_many(session, items)` at the next `flush`; False when the
    session does not batch (the caller then writes at once)."""
    kept: dict[RunMany, list[Any]] | None = session.info.get(_KEY)
    if kept is None:
        return False
    kept.setdefault(run_many, []).append(item)
    return True


def flush(session: Session) -> None:
    """Run what was kept, each kind in one call, in the order first kept."""
    kept: dict[RunMany, list[Any]] = session.info.get(_KEY) or {}
    while kept:
        run_many, items = next(iter(kept.items()))
        del kept[run_many]
        run_many(session, items)


def stop(session: Session) -> None:
    """Forget what was kept (its SAVEPOINT rolled back) and write at once again."""
    session.info.pop(_KEY, None)
