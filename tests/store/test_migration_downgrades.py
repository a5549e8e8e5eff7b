"""Every migration can be undone, on both engines: an operator can roll a deploy back.

From an empty database, the schema is brought to head, then taken down one revision at a
time to nothing; at each step the revision just undone is applied again and undone
again, so a downgrade that leaves anything behind its upgrade trips over shows up at
the revision that did it. Back up at head, the schema is the one the first upgrade made.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from store import Database, sqlite_url_for
from store.migrate import alembic_config, current_revision, head_revision
from tests.conftest import POSTGRES_ENV

Schema = dict[str, tuple[list[tuple[str, str, bool]], list[tuple[str, tuple[str, ...], bool]]]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no schema at all (a fresh one of its own on PostgreSQL)."""
    if request.param == "sqlite":
        yield sqlite_url_for(tmp_path)
        return
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    name = f"rose_cart_down_{uuid.uuid4().hex[:12]}"
    server = Database(admin, isolation_level="AUTOCOMMIT")
    try:
        async with server.engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        async with server.engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await server.dispose()


def _schema(connection: Connection) -> Schema:
    """Each table's columns (name, type, nullable) and indexes (name, columns, unique)."""
    found = inspect(connection)
    return {
        table: (
            [(c["name"], str(c["type"]), bool(c["nullable"])) for c in found.get_columns(table)],
            sorted(
                (str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
        )
        for table in sorted(found.get_table_names())
    }


def _migrate(connection: Connection, step: str, revision: str) -> None:
    getattr(command, step)(alembic_config(connection), revision)


async def _run(db: Database, step: str, revision: str) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_migrate, step, revision)


async def _read_schema(db: Database) -> Schema:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_schema)


async def test_every_migration_downgrades_and_upgrades_again(empty_url: str) -> None:
    db = Database(empty_url)
    try:
        await _run(db, "upgrade", "head")
        first = await _read_schema(db)
        scripts = ScriptDirectory.from_config(alembic_config())
        # Newest first: each revision's downgrade runs from the schema its upgrade made.
        for script in scripts.walk_revisions():
            below = script.down_revision or "base"
            assert isinstance(below, str), f"{script.revision} merges branches"
            await _run(db, "downgrade", below)
            await _run(db, "upgrade", script.revision)  # undone cleanly: it applies again
            await _run(db, "downgrade", below)
            assert await current_revision(db.engine) == (script.down_revision or None)
        assert list(await _read_schema(db)) == ["alembic_version"]
        await _run(db, "upgrade", "head")
        assert await current_revision(db.engine) == head_revision()
        assert await _read_schema(db) == first
    finally:
        await db.dispose()
