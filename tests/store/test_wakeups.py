"""Workers wake when work is written: on commit in-process, over LISTEN/NOTIFY across processes."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from store import Database, repeat, wake

CHANNEL = "work"


_versions = itertools.count(1)


async def _write(db: Database, *, commit: bool = True) -> None:
    class Undo(Exception):
        pass

    try:
        async with db.transaction() as session:
            # A real write, so that SQLite's data_version moves for other connections.
            if db.is_sqlite:
                await session.execute(text(f"PRAGMA user_version = {next(_versions)}"))
            else:
                await session.execute(text("SELECT 1"))
            wake(session, CHANNEL)
            if not commit:
                raise Undo
    except Undo:
        pass


async def test_a_commit_that_wrote_work_wakes_the_waiting_worker(db: Database) -> None:
    woken = db.wakeups.event(CHANNEL)
    await _write(db, commit=False)
    await asyncio.sleep(0)  # a thread-safe set would land on the next loop turn
    assert not woken.is_set(), "a rolled-back write announced work"
    await _write(db)
    await asyncio.wait_for(woken.wait(), timeout=10)


async def test_a_sleeping_loop_runs_its_step_when_woken_not_only_when_its_poll_comes(
    db: Database,
) -> None:
    stop, steps = asyncio.Event(), asyncio.Queue[int]()
    count = 0

    async def step() -> int:
        nonlocal count
        count += 1
        await steps.put(count)
        return 0

    loop = asyncio.create_task(
        repeat("test", step, stop, idle=3600, wake=db.wakeups.event(CHANNEL))
    )
    try:
        assert await asyncio.wait_for(steps.get(), timeout=10) == 1
        await _write(db)
        assert await asyncio.wait_for(steps.get(), timeout=10) == 2
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=10)


async def test_another_process_commit_wakes_the_listener(db: Database, database_url: str) -> None:
    # PostgreSQL through LISTEN/NOTIFY; SQLite through the file's data_version, which is
    # how a serve process hears of `rose-cart deliveries retry` or `market set-price`.
    worker = Database(database_url)  # another process's Database: its own engine, own events
    stop = asyncio.Event()
    woken = worker.wakeups.event(CHANNEL)
    listener = asyncio.create_task(worker.listen([CHANNEL], stop))
    try:
        # On (re)connecting the listener looks once, whatever was written meanwhile.
        await asyncio.wait_for(woken.wait(), timeout=10)
        woken.clear()
        await _write(db, commit=False)
        await _write(db)
        await asyncio.wait_for(woken.wait(), timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(listener, timeout=10)
        await worker.dispose()


async def test_a_unit_of_work_wakes_the_worker_once_its_batch_committed(db: Database) -> None:
    woken = db.wakeups.event(CHANNEL)

    def announce(session: Session, fail: bool) -> None:
        session.execute(text("SELECT 1"))
        wake(session, CHANNEL)
        if fail:
            raise RuntimeError("this unit rolls back, and so does its wake-up")

    with pytest.raises(RuntimeError):
        await db.write(announce, True)
    await asyncio.sleep(0)
    assert not woken.is_set(), "a rolled-back unit announced work"
    await db.write(announce, False)
    await asyncio.wait_for(woken.wait(), timeout=10)
