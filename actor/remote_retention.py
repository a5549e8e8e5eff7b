"""How long we keep remote actors nobody here trusts: the clean-up loop's rule.

`remote_actors` grows from outside: every signature with a key id we did not hold adds a
row (the fetched actor, or only the record of a failed try). Actors that matter to us
(peers, followers and follow requests, actors we follow) stay, refreshed by the cache's
TTL. Every other row is a cache entry of a stranger: it is deleted once nothing has been
fetched or tried for it within `older_than` (ROSE_CART_REMOTE_ACTOR_RETENTION_HOURS).
Deleting costs at most one refetch if the stranger comes back. Pointer rows (a key URL
standing for its owner, actor/remote.py) go with the same rule unless they live under
an actor we keep. Counts are on /metrics as `rose_cart_remote_actors`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, not_, or_
from sqlalchemy.orm import Session

from actor.remote import RemoteActorRow


def purge_untrusted_actors(
    session: Session,
    *,
    keep: Collection[str],
    keep_query: Any,
    older_than: timedelta,
    now: datetime,
) -> int:
    """Delete strangers' rows not seen within `older_than`; returns how many.

    `keep`: actor IRIs always kept (the peers); `keep_query`: a SELECT of one column of
    actor IRIs also kept (followers, actors we follow), evaluated in the statement.
    """
    cutoff = now - older_than
    seen = (
        RemoteActorRow.fetched_at,
        RemoteActorRow.last_refresh_attempt,
        RemoteActorRow.gone_at,
    )
    stale = and_(*(or_(column.is_(None), column < cutoff) for column in seen))
    kept: list[ColumnElement[bool]] = [RemoteActorRow.ap_id.in_(keep_query)]
    for iri in keep:
        kept.append(RemoteActorRow.ap_id == iri)
        kept.append(RemoteActorRow.ap_id.startswith(iri + "/", autoescape=True))
    result = session.execute(
        delete(RemoteActorRow)
        .where(stale, not_(or_(*kept)))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
