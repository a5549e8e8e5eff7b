"""Snapshots of every table, for asserting that a rejected request changed nothing; and
the write units a request ran (none, for one refused from memory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import inspect, text

from store import Database

# What we learnt about peers while checking a request (their actor document and key,
# which scheme they sign with) is a cache: it may change on any request, accepted or not.
CACHES = frozenset({"remote_actors", "peer_signature_schemes"})


async def snapshot(db: Database, *, caches: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table; caches left out unless asked for."""
    async with db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        tables = {}
        for name in sorted(
            n for n in names if n != "alembic_version" and (caches or n not in CACHES)
        ):
            query = text(f'SELECT * FROM "{name}"')  # noqa: S608 -- names from the schema
            rows = (await connection.execute(query)).all()
            tables[name] = sorted((tuple(r) for r in rows), key=repr)
        return tables


def count_writes(db: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the write units ``db`` runs from now on, in order (the test's
    monkeypatch restores ``db.write`` after it)."""
    written: list[str] = []
    write = db.write

    async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        written.append(getattr(fn, "__name__", repr(fn)))
        return await write(fn, *args, **kwargs)

    monkeypatch.setattr(db, "write", counted)
    return written
