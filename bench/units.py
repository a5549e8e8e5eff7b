"""bench/units: the fixed cost of one unit of work, apart from anything a unit does.

Ours is `Database.read` / `Database.write` (store/units.py, SQLite: reader threads, the
writer thread's group commit) running a trivial unit: one SELECT of a row by key, or
one INSERT of a row, each a Core statement built once, as the hot paths' are; the read
also through store/direct.py (`db.read (direct)`: no Session, as GET /cart's). The floor,
in the same run on the same file, is honest (issue 18): the same statement through
stdlib `sqlite3` on one thread with the same `synchronous=FULL`: a SELECT alone; an
INSERT in a `BEGIN IMMEDIATE` ... `COMMIT` of its own (one caller) or of 32 rows (32
callers, the best a group commit could batch). What is left between ours and the floor
is what every unit pays: the hand-off to a thread and back, the Session, the
transaction or SAVEPOINT around it, and SQLAlchemy's execution of the one statement.

Each case reports units/s (wall clock) and the process's CPU per unit (all threads;
less disturbed by other load than the wall clock), best of ROUNDS rounds.

`python -m bench units` (BENCH_UNITS sets how many units a round runs).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.harness import Figure, report
from store import direct

CONCURRENCY = 32
UNITS = int(os.environ.get("BENCH_UNITS", "3000"))
ROUNDS = 3
ROWS = 1000
_SELECT = "SELECT body FROM bench_rows WHERE id = ?"
_INSERT = "INSERT INTO bench_rows (body) VALUES (?)"
_SELECT_CORE = text("SELECT body FROM bench_rows WHERE id = :id")
_INSERT_CORE = text("INSERT INTO bench_rows (body) VALUES (:body)")

Measure = tuple[float, float]  # units/s, CPU µs per unit


def _get(session: Session, row_id: int) -> str | None:
    value: str | None = session.execute(_SELECT_CORE, {"id": row_id}).scalar()
    return value


def _get_direct(session: Session, row_id: int) -> str | None:
    """The same read through store/direct.py, as the hot read paths run (no Session)."""
    row = direct.first(session, _SELECT_CORE, {"id": row_id})
    return row[0] if row is not None else None


def _put(session: Session, body: str) -> None:
    session.execute(_INSERT_CORE, {"body": body})


def _prepare(path: str) -> None:
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        connection.execute("BEGIN")
        connection.executemany(_INSERT, [(f"row {n}",) for n in range(ROWS)])
        connection.execute("COMMIT")
    connection.close()


def _timed(run: Callable[[], object], units: int) -> Measure:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return units / wall, cpu / units * 1e6


def _floor(path: str, case: str, units: int) -> Measure:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=FULL")  # as the writer's (store/units.py)

        def reads() -> None:
            for n in range(units):
                connection.execute(_SELECT, (n % ROWS + 1,)).fetchone()

        def writes(per_commit: int) -> None:
            for start in range(0, units, per_commit):
                connection.execute("BEGIN IMMEDIATE")
                for n in range(start, min(units, start + per_commit)):
                    connection.execute(_INSERT, (f"floor {n}",))
                connection.execute("COMMIT")

        if case.startswith("read"):
            return _timed(reads, units)
        return _timed(lambda: writes(1 if case == "write 1" else CONCURRENCY), units)
    finally:
        connection.close()


async def _ours(db: Any, case: str, units: int, callers: int) -> Measure:
    per_caller = units // callers

    async def caller(number: int) -> None:
        for n in range(per_caller):
            if case.startswith("read"):
                read = _get_direct if case == "read direct" else _get
                await db.read(read, (number * per_caller + n) % ROWS + 1)
            else:
                await db.write(_put, f"ours {number} {n}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller(number) for number in range(callers)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = per_caller * callers
    return done / wall, cpu / done * 1e6


def _writer(db: Any) -> Any:
    from store.units import ThreadUnits

    units = db.units
    assert isinstance(units, ThreadUnits)  # SQLite on a file: the writer thread
    return units.writer


def _best(measures: list[Measure]) -> Measure:
    return max(m[0] for m in measures), min(m[1] for m in measures)


async def _measure() -> tuple[list[Figure], list[str]]:
    from store import Database
    from store.engine import sqlite_url_for

    cases = [
        ("read", 1, UNITS),
        ("read", CONCURRENCY, UNITS),
        ("read direct", CONCURRENCY, UNITS),
        ("write 1", 1, max(200, UNITS // 6)),  # one fsync each: fewer, or it takes minutes
        ("write 32", CONCURRENCY, UNITS),
    ]
    figures: list[Figure] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        path = str(data / "rose-cart.sqlite3")
        _prepare(path)
        db = Database(sqlite_url_for(data))
        try:
            await db.read(_get, 1)  # start the threads and connections outside the timing
            await db.write(_put, "warm")
            for case, callers, units in cases:
                ours: list[Measure] = []
                bare: list[Measure] = []
                batches = 0
                for _ in range(ROUNDS):  # interleaved, so both sides see the same load
                    bare.append(await asyncio.to_thread(_floor, path, case, units))
                    before = _writer(db).batches
                    ours.append(await _ours(db, case, units, callers))
                    batches += _writer(db).batches - before
                (ours_rate, ours_cpu), (bare_rate, bare_cpu) = _best(ours), _best(bare)
                label = {"read": "db.read", "read direct": "db.read (direct)"}.get(case, "db.write")
                label = f"{label}, {callers} caller(s)"
                figures.append(Figure(f"{label}: units/s", ours_rate, bare_rate, "units/s"))
                figures.append(
                    Figure(
                        f"{label}: CPU per unit",
                        ours_cpu,
                        bare_cpu,
                        "µs",
                        higher_is_better=False,
                    )
                )
                if not case.startswith("read"):
                    notes.append(
                        f"{label}: {units * ROUNDS / max(1, batches):.1f} units per COMMIT"
                    )
        finally:
            await db.dispose()
    notes.append(
        f"best of {ROUNDS} rounds each, floor and ours interleaved; CPU is the process's, "
        "all threads"
    )
    return figures, notes


def _run_all() -> tuple[list[Figure], list[str]]:
    return asyncio.run(_measure())


def main() -> None:
    figures, notes = _run_all()
    report(
        "bench/units (a trivial db.read / db.write vs the same statement through stdlib "
        "sqlite3, one thread, synchronous=FULL)",
        figures,
        notes,
    )


if __name__ == "__main__":
    main()
