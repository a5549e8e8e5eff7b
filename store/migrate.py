"""Apply the Alembic migrations: idempotent, run by `rose-cart init` and at `serve` start;
and undo them, for `rose-cart migrations down` (rolling a release back).

Asking Alembic to upgrade a database that is already at head still reads and compiles
every migration script (~60 ms, more on a busy machine), and every process start and
every test app pays it; so the head is found once per process and a database already
there is left alone after one `SELECT` of its version.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


# Any constant: PostgreSQL advisory locks are keyed by a number.
_MIGRATION_LOCK = 0x726F7365


def _locked(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Several processes starting at once on one database migrate one after another.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})


def _upgrade(connection: Connection, revision: str) -> None:
    if revision == "head" and _current(connection) == head_revision():
        return
    _locked(connection)
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    _locked(connection)
    command.downgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is already there."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema down to `revision` (a revision of these scripts, or "base")."""
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


@cache
def head_revision() -> str | None:
    """The newest migration's revision; the scripts do not change while a process runs."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revision(revision: str) -> bool:
    """Whether these scripts have `revision` ("base": before the first)."""
    if revision == "base":
        return True
    scripts = ScriptDirectory.from_config(alembic_config())
    return revision in {script.revision for script in scripts.walk_revisions()}
