"""bench/inbox_apply: the inbox worker's CPU per Follow applied, in process, without HTTP.

What bench/federation's figure is made of, apart from receiving: the worker's claim and
apply units on the one SQLite writer thread, over Follows already stored (as the
receiver stores them, with its parse handed over in memory) from senders whose actors
are cached. Three shapes: one stranger sending them all (bench/federation's), 100
strangers in turn (each Follow of a batch from another sender), and 100 co-op peers,
whose Follows are accepted at once (a follower row moved and an Accept published each).
CPU is the process's user + system time while the worker runs, per Follow.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from actor.remote import RemoteActorRow
from actor.roles import PeerRole
from bench.harness import report
from inbox.handoff import Handoff, Parsed
from inbox.models import InboxStatus
from inbox.registry import HandlerRegistry
from inbox.sqlite_commit import insert_rows
from inbox.worker import InboxWorker
from outbox.followers import register_follow_handlers
from outbox.hosts import mark_all_contacted
from store import Database, sqlite_url_for, upgrade
from tests.outbox.support import local_actor
from vocab import model
from vocab.parse import parse

FOLLOWS = int(os.environ.get("BENCH_INBOX_APPLY_FOLLOWS", "3000"))
ACTOR = local_actor()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sender(n: int) -> str:
    return f"https://peer{n}.test/actor"


def stored_follows(senders: int, handoff: Handoff, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in range(FOLLOWS):
        actor = sender(i % senders)
        document = {"id": f"{actor}/follows/{i}", "type": "Follow", "actor": actor}
        document["object"] = ACTOR.id
        follow = model.Follow(id=document["id"], actor=actor, object=ACTOR.id)
        handoff.offer(document["id"], Parsed(actor, follow, document))
        rows.append(
            {
                "ap_id": document["id"],
                "ap_actor_id": actor,
                "activity_type": "Follow",
                "object_type": None,
                "body": orjson.dumps(document).decode(),
                "status": InboxStatus.PENDING,
                "attempts": 0,
                "received_at": now,
                "next_attempt_at": now,
            }
        )
    return rows


def cache_actors(session: Session, senders: int, now: datetime) -> None:
    for n in range(senders):
        actor = sender(n)
        key = {"id": f"{actor}#main-key", "owner": actor, "publicKeyPem": "A" * 450}
        session.add(
            RemoteActorRow(
                ap_id=actor,
                inbox=f"{actor}/inbox",
                shared_inbox=f"https://peer{n}.test/inbox",
                public_keys={key["id"]: key["publicKeyPem"]},
                document={"id": actor, "type": "Service", "publicKey": key},
                fetched_at=now,
            )
        )


async def cpu_per_follow(senders: int, *, coop: bool) -> tuple[float, float]:
    """(ms of CPU, Follows a second of wall time) for FOLLOWS Follows."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(sqlite_url_for(Path(tmp)))
        await upgrade(db.engine)

        def roles_of(_actor: str) -> Collection[str]:
            return {PeerRole.COOP} if coop else ()

        registry = HandlerRegistry()
        register_follow_handlers(registry, local_actor=ACTOR, roles_of=roles_of, remote=None)  # type: ignore[arg-type]
        handoff = Handoff(max_entries=FOLLOWS)
        now = datetime.now(UTC)
        await db.write(insert_rows, stored_follows(senders, handoff, now))
        await db.write(cache_actors, senders, now)
        worker = InboxWorker(db, registry, parse, on_processed=mark_all_contacted, handoff=handoff)
        cpu_before, started = cpu(), time.perf_counter()
        applied = 0
        while claimed := await worker.step():
            applied += claimed
        cpu_used, seconds = cpu() - cpu_before, time.perf_counter() - started
        await db.dispose()
    assert applied == FOLLOWS, f"applied {applied} of {FOLLOWS}"
    return cpu_used * 1000 / FOLLOWS, FOLLOWS / seconds


async def run() -> None:
    lines = []
    for label, senders, coop in (
        ("one stranger", 1, False),
        ("100 strangers", 100, False),
        ("100 co-op peers (Accept each)", 100, True),
    ):
        ms, rate = await cpu_per_follow(senders, coop=coop)
        lines.append(f"{label:32} {ms:6.3f} ms CPU per Follow  ({rate:,.0f}/s)")
    report(f"inbox apply: {FOLLOWS} stored Follows, the worker in process, SQLite", [], lines)


def main() -> None:
    asyncio.run(run())
