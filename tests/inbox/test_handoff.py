"""The receiver's parse reaches the worker in memory: a stored body is not parsed again;
and what a batch of Follows looks up is read once.

Counted, not timed: the worker's parser is wrapped with a counter. A Follow received
over real signed HTTP is applied with no parse by the worker of the same process; after
a restart (a worker with nothing handed to it) the stored body is parsed, once. The
statements a batch runs are counted at the driver: those Core sends, and those
store/direct sends on the driver's own cursor.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, event

from inbox.worker import InboxWorker
from outbox.followers import pending_followers
from outbox.models import Follower
from store import direct
from tests.support.inbox_peers import Served
from tests.support.peers import RemotePeer


class CountedCursor:
    """A driver cursor whose statements are shown to `note` before they run."""

    def __init__(self, cursor: Any, note: Any) -> None:
        self._cursor, self._note = cursor, note

    def execute(self, statement: str, *args: Any) -> Any:
        self._note(statement)
        return self._cursor.execute(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class Counting:
    def __init__(self, parse: Any) -> None:
        self.parse, self.calls = parse, 0

    def __call__(self, document: dict[str, Any]) -> Any:
        self.calls += 1
        return self.parse(document)


async def followers(served: Served) -> list[tuple[str, str | None]]:
    async with served.db.transaction() as session:
        return [(f.ap_actor_id, f.follow_ap_id) for f in await pending_followers(session)]


async def test_the_worker_applies_what_the_receiver_parsed_without_parsing_it_again(
    served: Served, stranger: RemotePeer
) -> None:
    worker: InboxWorker = served.app.state.federation.inbox_worker
    counting = worker.parse = Counting(worker.parse)
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    assert (await stranger.deliver(served.inbox, follow)).status_code == 202
    assert await worker.step() == 1
    assert counting.calls == 0
    assert await followers(served) == [(stranger.actor_id, follow["id"])]
    assert len(worker.handoff) == 0, "what was handed over is taken, not kept"


async def test_after_a_restart_the_worker_parses_the_stored_body_once(
    served: Served, stranger: RemotePeer
) -> None:
    running: InboxWorker = served.app.state.federation.inbox_worker
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    assert (await stranger.deliver(served.inbox, follow)).status_code == 202
    counting = Counting(running.parse)
    restarted = InboxWorker(served.db, running.registry, counting)  # nothing handed to it
    assert await restarted.step() == 1
    assert counting.calls == 1
    assert await followers(served) == [(stranger.actor_id, follow["id"])]
    assert await restarted.step() == 0


async def test_a_batch_of_follows_from_one_sender_reads_and_writes_its_follower_once(
    served: Served, stranger: RemotePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each Follow moves the follower's row on (its last Follow, the earlier ones): the
    batch writes where the last one leaves it, in one statement, not one per Follow."""
    worker: InboxWorker = served.app.state.federation.inbox_worker
    follows = [stranger.activity("Follow", f"{served.base_url}/actor") for _ in range(5)]
    for follow in follows:
        assert (await stranger.deliver(served.inbox, follow)).status_code == 202
    reads: Counter[str] = Counter()
    writes: Counter[str] = Counter()

    def note(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            for table in ("followers", "remote_actors"):
                reads[table] += f"FROM {table}" in statement
        for verb in ("INSERT INTO", "UPDATE"):
            writes[verb] += statement.lstrip().upper().startswith(f"{verb} FOLLOWERS")

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        note(statement)

    real_cursor = direct._cursor
    monkeypatch.setattr(
        direct, "_cursor", lambda session: CountedCursor(real_cursor(session), note)
    )
    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert await worker.step() == 5, "one batch"
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert reads == {"followers": 1, "remote_actors": 1}
    # A new follower: its row is made by the first Follow, moved on once for the others.
    assert writes == {"INSERT INTO": 1, "UPDATE": 1}
    assert await followers(served) == [(stranger.actor_id, follows[-1]["id"])]
    async with served.db.transaction() as session:
        row = await session.get(Follower, stranger.actor_id)
    assert row is not None and row.earlier_follow_ids == [f["id"] for f in follows[:-1]]
