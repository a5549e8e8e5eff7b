"""bench/checkout_writer: the SQLite writer thread's CPU per order placed.

bench/checkout's rates move with whatever else the machine runs; this measures the one
thing that bounds its direct figure, the writer thread's CPU per order, as thread CPU
time (not wall time), so it stays comparable on a shared machine. Every order
(BENCH_CHECKOUT_ORDERS, 1,000; two lines each) is handed to `db.write` at once, so the
writer runs them in its full batches; a unit before them and one after read the writer
thread's CPU clock. Against it, in the same run: the same rows through stdlib `sqlite3`
(bench/checkout's floor), one transaction each, that thread's CPU per order likewise.

`python -m bench checkout_writer`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bench.checkout import ORDERS, _actor, _floor_one, _ours, _prepared
from bench.harness import Figure, report


def _cpu_clock(_session: Session) -> float:
    """A unit that reads the CPU time of the thread it runs on (the writer)."""
    return time.thread_time()


async def _writer_cpu(folder: Path, actor: Any) -> float:
    """ms of the writer thread's CPU per order placed."""
    db, carts, page_key = await _prepared(folder)
    try:
        started: float = await db.write(_cpu_clock)
        await asyncio.gather(*(_ours(db, cart, page_key, actor) for cart in carts))
        ended: float = await db.write(_cpu_clock)
    finally:
        await db.dispose()
    return (ended - started) * 1000 / len(carts)


def _floor(path: str, carts: list[str], page_key: str, base_url: str) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        started = time.thread_time()
        for cart in carts:
            _floor_one(connection, cart, page_key, base_url)
        return (time.thread_time() - started) * 1000 / len(carts)
    finally:
        connection.close()


async def _floor_cpu(folder: Path, actor: Any) -> float:
    db, carts, page_key = await _prepared(folder)
    path = db.engine.url.database
    await db.dispose()
    assert path is not None
    return await asyncio.to_thread(_floor, path, carts, page_key, actor.base_url)


def main() -> None:
    actor = _actor()
    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as bare_dir:
        bare = asyncio.run(_floor_cpu(Path(bare_dir), actor))
        ours = asyncio.run(_writer_cpu(Path(ours_dir), actor))
    report(
        "bench/checkout_writer (the writer thread's CPU per order placed through db.write, "
        "vs the same rows through stdlib sqlite3)",
        [
            Figure(
                "checkout: writer CPU per order",
                ours,
                bare,
                "ms",
                higher_is_better=False,
                note=f"{ORDERS} orders, thread CPU time",
            )
        ],
        [],
    )


if __name__ == "__main__":
    main()
