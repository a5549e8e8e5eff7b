"""Snapshots of every table, for asserting that a rejected request changed nothing."""

from __future__ import annotations

from typing import Any

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
