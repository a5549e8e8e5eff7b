"""`GET /metrics`: queue depths and outcomes in the Prometheus text exposition format.

Every scrape reads the database afresh (a handful of COUNT ... GROUP BY queries over
indexed status columns), so every web process reports the same numbers for the whole
deployment: scrape any one of them. Nothing is kept in process memory, which is what
lets N web and M worker processes share one PostgreSQL; the one exception is said so in
its HELP: the refusals of per-client pacing (service/pacing.py), counted per process.

The format is written by hand (version 0.0.4 of the text format:
https://prometheus.io/docs/instrumenting/exposition_formats/) to avoid a dependency.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnClause, column, func, select, table, text
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cart.identity.registrations import count_pending
from cart.orders.states import OrderStatus
from inbox.models import InboxStatus
from outbox.states import DeliveryState, FollowerState
from store import Database
from store.throttle import count_hits

log = logging.getLogger("rose_cart.metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Family:
    """One gauge family counted by a label column: every known label value is always emitted."""

    name: str
    help: str
    table: str
    column: str
    label: str
    known: tuple[str, ...]


FAMILIES = (
    Family(
        "rose_cart_inbox_activities",
        "Inbox activities by status (pending is the inbox queue depth).",
        "inbox_activities",
        "status",
        "status",
        tuple(InboxStatus),
    ),
    Family(
        "rose_cart_outbox_deliveries",
        "Outbox deliveries by state (pending is the delivery queue depth; dead needs an operator).",
        "outbox_deliveries",
        "status",
        "state",
        tuple(DeliveryState),
    ),
    Family(
        "rose_cart_orders",
        "Orders by status (pending orders are waiting for payment).",
        "orders",
        "status",
        "status",
        tuple(OrderStatus),
    ),
    Family(
        "rose_cart_followers",
        "Followers of our actor by state (pending ones wait for an operator).",
        "followers",
        "state",
        "state",
        tuple(FollowerState),
    ),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _count_by(session: Session, family: Family) -> dict[str, int]:
    label: ColumnClause[Any] = column(family.column)
    rows = session.execute(
        select(label, func.count()).select_from(table(family.table)).group_by(label)
    )
    return {str(value): int(count) for value, count in rows.all()}


_REMOTE_STATES = text(
    "SELECT CASE WHEN gone_at IS NOT NULL THEN 'gone' "
    "WHEN document IS NULL THEN 'unfetched' ELSE 'fetched' END AS state, COUNT(*) "
    "FROM remote_actors GROUP BY 1"
)


def _remote_actors(session: Session) -> list[str]:
    """The actor cache, which grows with every unknown key id (actor/remote_retention.py)."""
    found = {str(state): int(count) for state, count in session.execute(_REMOTE_STATES)}
    name = "rose_cart_remote_actors"
    lines = [
        f"# HELP {name} Cached remote actors by state (unfetched: a fetch tried and failed).",
        f"# TYPE {name} gauge",
    ]
    lines.extend(
        f'{name}{{state="{state}"}} {found.get(state, 0)}'
        for state in ("fetched", "unfetched", "gone")
    )
    return lines


async def collect(db: Database) -> str:
    """The whole exposition text, read in one unit of work (one snapshot)."""
    lines = await db.read(_counts)
    lines.append("# HELP rose_cart_up 1 when the metrics could be read from the database.")
    lines.append("# TYPE rose_cart_up gauge")
    lines.append("rose_cart_up 1")
    return "\n".join(lines) + "\n"


def _counts(session: Session) -> list[str]:
    """A read unit: every family's lines."""
    lines: list[str] = []
    for family in FAMILIES:
        found = _count_by(session, family)
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} gauge")
        for value in (*family.known, *sorted(set(found) - set(family.known))):
            label = f'{family.label}="{_escape(value)}"'
            lines.append(f"{family.name}{{{label}}} {found.get(value, 0)}")
    backfills = session.scalar(
        text("SELECT COUNT(*) FROM catalog_backfills WHERE finished_at IS NULL")
    )
    lines.append("# HELP rose_cart_catalog_backfills_pending Catalogue backfills not finished yet.")
    lines.append("# TYPE rose_cart_catalog_backfills_pending gauge")
    lines.append(f"rose_cart_catalog_backfills_pending {int(backfills or 0)}")
    throttled = count_hits(session)
    lines.append(
        "# HELP rose_cart_throttle_hits Counted login, registration, checkout and provider "
        "attempts still in the throttle table (purged after a day)."
    )
    lines.append("# TYPE rose_cart_throttle_hits gauge")
    lines.append(f"rose_cart_throttle_hits {throttled}")
    pending = count_pending(session)
    lines.append(
        "# HELP rose_cart_pending_registrations Registration links mailed and not used "
        "yet (purged a day after they were sent)."
    )
    lines.append("# TYPE rose_cart_pending_registrations gauge")
    lines.append(f"rose_cart_pending_registrations {pending}")
    lines.extend(_remote_actors(session))
    return lines


def _in_memory(request: Request) -> str:
    """This process's own counters (per-client pacing, service/pacing.py; the inbox's
    dropped activities, inbox/unhandled.py): unlike the rest they are per process, so sum
    them over the processes you scrape."""
    pacer = getattr(request.app.state, "pacer", None)
    lines = list(pacer.exposition()) if pacer is not None else []
    receiver = getattr(request.app.state, "inbox_receiver", None)
    dropped = getattr(receiver, "dropped", None)
    if dropped is not None:
        name = "rose_cart_inbox_dropped_total"
        lines.append(
            f"# HELP {name} Activities we do not act on, from strangers whose keys we do not "
            "hold, answered 202 unverified and not stored, in this process since it started."
        )
        lines.append(f"# TYPE {name} counter")
        lines.append(f"{name} {dropped}")
    return "".join(f"{line}\n" for line in lines)


async def metrics(request: Request) -> Response:
    try:
        body = await collect(request.app.state.db)
    except Exception as error:  # any database failure: say so in a form Prometheus reads
        log.warning("metrics not readable", extra={"error": type(error).__name__})
        body = "# TYPE rose_cart_up gauge\nrose_cart_up 0\n"
        return PlainTextResponse(body, status_code=503, media_type=CONTENT_TYPE)
    return PlainTextResponse(body + _in_memory(request), media_type=CONTENT_TYPE)


metrics_routes = [Route("/metrics", metrics, methods=["GET"])]
