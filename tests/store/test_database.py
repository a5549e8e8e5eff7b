"""The store on both engines: configured as promised, migrations idempotent and complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from actor.keys import LocalKey
from service.schema import all_metadata
from store import Database, upgrade
from store.exceptions import UnsupportedDatabase
from store.migrate import current_revision, head_revision


async def test_given_a_migrated_database_when_migrating_again_then_nothing_changes(
    db: Database,
) -> None:
    before = await current_revision(db.engine)
    await upgrade(db.engine)
    await upgrade(db.engine)
    assert before == head_revision() == await current_revision(db.engine)


async def test_the_migrations_create_exactly_the_tables_the_models_declare(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(connection: AsyncConnection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, all_metadata())

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas")
    async with db.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() >= 1000


async def test_a_unit_of_work_rolls_back_everything_when_it_raises(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            session.add(LocalKey(kind="rsa", public_pem="x", private_sealed=b"x"))
            await session.flush()
            raise RuntimeError("boom")
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM local_keys"))).scalar() == 0


async def test_timestamps_come_back_as_the_same_utc_instant_on_both_engines(db: Database) -> None:
    stamp = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction() as session:
        session.add(LocalKey(kind="rsa", public_pem="x", private_sealed=b"x", created_at=stamp))
    async with db.transaction() as session:
        row = (await session.execute(text("SELECT id FROM local_keys"))).scalar_one()
        key = await session.get(LocalKey, row)
        assert key is not None
        assert key.created_at == stamp
        assert key.created_at.tzinfo is UTC


async def test_naive_timestamps_are_refused_rather_than_guessed(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.transaction() as session:
            session.add(
                LocalKey(
                    kind="rsa", public_pem="x", private_sealed=b"x", created_at=datetime(2026, 1, 1)
                )
            )


def test_an_unknown_database_url_names_the_supported_ones() -> None:
    with pytest.raises(UnsupportedDatabase, match="sqlite\\+aiosqlite"):
        Database("mysql://localhost/db")
