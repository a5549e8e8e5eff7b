"""Units of work (store/units.py) on both engines: one hop, one commit, failures kept apart."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from actor.keys import LocalKey
from store import Database, direct, utcnow
from store.units import ThreadUnits


def _add_key(session: Session, label: str) -> int:
    key = LocalKey(kind=label, public_pem="x", private_sealed=b"x", retired_at=utcnow())
    session.add(key)
    session.flush()
    return key.id


def _labels(session: Session) -> list[str]:
    return sorted(session.scalars(select(LocalKey.kind)))


def _add_then_fail(session: Session, label: str) -> None:
    _add_key(session, label)
    raise LookupError(f"{label} changed its mind")


def _stop_short(session: Session, label: str) -> None:
    _add_key(session, label)
    next(iter([]))  # StopIteration: a future refuses it as an exception


async def _write_together(db: Database, *writes: tuple[Callable[..., Any], str]) -> list[Any]:
    """Each `(fn, label)` written, their outcomes (or exceptions), every caller answered.

    On SQLite the writer thread is first held busy with a unit, so that all of them queue
    behind it and go as one batch (exactly two more COMMITs: the held unit's and theirs).
    On PostgreSQL there is no writer thread to hold.
    """
    units = db.units
    if not isinstance(units, ThreadUnits):
        gathered = asyncio.gather(
            *(db.write(fn, label) for fn, label in writes), return_exceptions=True
        )
        return await asyncio.wait_for(gathered, 30)
    started, release = threading.Event(), threading.Event()

    def held(session: Session) -> None:
        started.set()
        assert release.wait(30)

    before = units.writer.batches
    holding = asyncio.ensure_future(db.write(held))
    try:
        assert await asyncio.to_thread(started.wait, 30)
        queued = [asyncio.ensure_future(db.write(fn, label)) for fn, label in writes]
        await asyncio.sleep(0)  # let every unit reach the writer's queue
    finally:
        release.set()
        await holding
    outcomes = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 30)
    assert units.writer.batches - before == 2, "the queued units did not share one batch"
    return outcomes


async def test_a_written_unit_is_seen_by_the_next_read(db: Database) -> None:
    key_id = await db.write(_add_key, "first")
    assert isinstance(key_id, int)
    assert await db.read(_labels) == ["first"]


async def test_a_unit_that_raises_keeps_nothing_and_fails_alone(db: Database) -> None:
    outcomes = await _write_together(db, (_add_key, "a"), (_add_then_fail, "b"), (_add_key, "c"))
    assert isinstance(outcomes[1], LookupError)
    assert isinstance(outcomes[0], int) and isinstance(outcomes[2], int)
    assert await db.read(_labels) == ["a", "c"]


async def test_a_unit_raising_stop_iteration_fails_alone_and_the_others_are_answered(
    db: Database,
) -> None:
    # Every caller is answered (a batch's answers are given in one loop callback).
    outcomes = await _write_together(db, (_add_key, "a"), (_stop_short, "b"), (_add_key, "c"))
    assert isinstance(outcomes[1], RuntimeError), outcomes
    assert isinstance(outcomes[0], int) and isinstance(outcomes[2], int), outcomes
    assert await db.read(_labels) == ["a", "c"]


async def test_a_read_that_tries_to_write_fails_and_changes_nothing(db: Database) -> None:
    with pytest.raises(Exception, match="(?i)read.?only|query_only|readonly"):
        await db.read(_add_key, "sneaky")
    assert await db.read(_labels) == []


async def test_a_read_does_not_wait_for_a_write_in_progress(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("on PostgreSQL a unit runs on the event loop (run_sync): it cannot block here")
    started, release = threading.Event(), threading.Event()

    def slow_write(session: Session) -> None:
        _add_key(session, "slow")
        started.set()
        assert release.wait(30)

    writing = asyncio.ensure_future(db.write(slow_write))
    try:
        assert await asyncio.to_thread(started.wait, 30)
        # The writer holds its transaction open; the read sees the last committed state.
        assert await asyncio.wait_for(db.read(_labels), 30) == []
    finally:
        release.set()
        await writing
    assert await db.read(_labels) == ["slow"]


async def test_unitsqueued_behind_a_batch_share_one_commit_and_answer_after_it(
    db: Database,
) -> None:
    if not db.is_sqlite:
        pytest.skip("group commit is SQLite's writer thread")
    units = db.units
    assert isinstance(units, ThreadUnits)
    path = db.engine.url.database
    assert path is not None
    started, release = threading.Event(), threading.Event()

    def held(session: Session) -> None:
        started.set()
        assert release.wait(30)

    first = asyncio.ensure_future(db.write(held))
    assert await asyncio.to_thread(started.wait, 30)
    before = units.writer.batches
    queued = [asyncio.ensure_future(db.write(_add_key, f"k{n}")) for n in range(10)]
    await asyncio.sleep(0)  # let every unit reach the writer's queue
    release.set()
    await first
    for done in asyncio.as_completed(queued):
        await done
        # Answered means committed: another connection already sees the row.
        with sqlite3.connect(path) as other:
            (count,) = other.execute("SELECT count(*) FROM local_keys").fetchone()
        assert count >= 1
    assert units.writer.batches - before == 2  # the held unit, then all ten together
    assert await db.read(lambda s: s.scalar(select(func.count()).select_from(LocalKey))) == 10


async def test_when_the_database_cannot_be_opened_unitsfail_instead_of_waiting(
    tmp_path: Path,
) -> None:
    units = ThreadUnits(str(tmp_path / "no such folder" / "shop.sqlite3"), busy_timeout_ms=100)
    try:
        for attempt in (units.read, units.write, units.read, units.write):
            # A unit thread that died on its connection would leave these waiting forever.
            with pytest.raises(OperationalError, match="unable to open"):
                await asyncio.wait_for(attempt(_labels), 30)
    finally:
        await units.close()


class _Abandoned(BaseException):
    """Not an Exception: what a unit might raise that `except Exception` lets through."""


def _abandon(session: Session, label: str) -> None:
    _add_key(session, label)
    raise _Abandoned(label)


def _abandon_reading(session: Session) -> None:
    raise _Abandoned(_labels(session))


async def test_a_unit_raising_a_base_exception_answers_its_caller_and_units_go_on(
    db: Database,
) -> None:
    with pytest.raises(_Abandoned):
        await asyncio.wait_for(db.read(_abandon_reading), 30)
    with pytest.raises(_Abandoned):
        await asyncio.wait_for(db.write(_abandon, "written"), 30)
    # A unit thread that died of it would leave these waiting forever.
    assert isinstance(await asyncio.wait_for(db.write(_add_key, "after"), 30), int)
    assert await asyncio.wait_for(db.read(_labels), 30) == ["after"]


def _one(session: Session) -> int:
    return int(session.scalar(select(1)) or 0)


async def test_units_after_close_are_refused_and_start_no_thread(tmp_path: Path) -> None:
    units = ThreadUnits(str(tmp_path / "shop.sqlite3"), busy_timeout_ms=100)
    assert await units.write(_one) == 1 and await units.read(_one) == 1
    await units.close()
    before = set(threading.enumerate())
    # A read during close() used to start fresh readers, which could take the Nones meant
    # for the old ones (close() then never returned) and outlive the database.
    for attempt in (units.read, units.write):
        with pytest.raises(RuntimeError, match="closed"):
            await asyncio.wait_for(attempt(_one), 30)
    assert set(threading.enumerate()) <= before


_KINDS = select(LocalKey.__table__.c.kind).order_by(LocalKey.__table__.c.kind)


async def test_a_read_unit_sees_one_snapshot_through_direct_statements_and_the_session(
    db: Database,
) -> None:
    """A read's first statement (store/direct.py, on the reader's connection) and a later
    one through the Session (made only then) read the same snapshot: a row committed
    between them is seen by neither."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL reads in READ COMMITTED: each statement sees the latest")
    await db.write(_add_key, "before")
    path = db.engine.url.database
    assert path is not None

    def read_twice(session: Session) -> tuple[list[str], list[str]]:
        first = [kind for (kind,) in direct.rows(session, _KINDS)]
        with sqlite3.connect(path) as other:  # commits a row between the two statements
            other.execute(
                "INSERT INTO local_keys (kind, public_pem, private_sealed, created_at) "
                "VALUES ('between', 'x', x'00', '2026-11-28 12:00:00')"
            )
        other.close()
        return first, _labels(session)

    assert await db.read(read_twice) == (["before"], ["before"])
    assert await db.read(_labels) == ["before", "between"]  # the next read sees it


async def test_sqlite_keeps_its_statement_journals_in_memory_not_in_temporary_files(
    db: Database,
) -> None:
    # Each write batch's SAVEPOINTs need a statement journal; in a file, every batch
    # created and unlinked one on disk. 2 is MEMORY, on every kind of connection.
    if not db.is_sqlite:
        pytest.skip("a SQLite setting")

    def temp_store(session: Session) -> int:
        return int(session.connection().exec_driver_sql("PRAGMA temp_store").scalar_one())

    assert await db.write(temp_store) == 2
    assert await db.read(temp_store) == 2
    async with db.sessions() as session:
        assert await session.run_sync(temp_store) == 2
