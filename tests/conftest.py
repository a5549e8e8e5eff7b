"""Fixtures shared by the whole suite.

Every test that takes `db` (or anything built on it) runs twice: on SQLite and on
PostgreSQL. The PostgreSQL run needs ROSE_CART_TEST_POSTGRES_URL (an admin URL such as
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres; `.ci/run` sets it); without it
those tests skip and say so. Each session gets its own PostgreSQL database, created
and dropped here; each test gets empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from service.app import create_app
from service.settings import Settings
from store import Database, sqlite_url_for, upgrade
from tests.support.keypool import patch_key_generation
from tests.support.settings import TEST_SECRET, app_settings

# Fixtures shared across folders (the web app, its clients, the admin, the CLI; one app
# for a module of read-only tests).
pytest_plugins = [
    "tests.support.web_fixtures",
    "tests.support.shared_app",
    "tests.support.inbox_peers",
]

POSTGRES_ENV = "ROSE_CART_TEST_POSTGRES_URL"
__all__ = ["POSTGRES_ENV", "TEST_SECRET"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make test` (pytest-xdist, --dist loadgroup) the tests that start processes
    or drive a browser all go to one worker, one at a time, as in a serial run, while the
    other workers take the in-process tests: their waits then see the machine they were
    written for, not several process trees starting at once."""
    for item in items:
        if item.get_closest_marker("slow") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("processes"))


@pytest.fixture(autouse=True)
def pooled_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """RSA-2048 generation costs ~0.1 s; tests draw from a pool of real keys instead."""
    patch_key_generation(monkeypatch)


def _run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating each time."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    _run(_migrate(sqlite_url_for(folder)))
    return folder / "rose-cart.sqlite3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)"
        )
    name = f"rose_cart_test_{uuid.uuid4().hex[:12]}"
    base = admin.rsplit("/", 1)[0]

    async def admin_execute(sql: str) -> None:
        db = Database(admin, isolation_level="AUTOCOMMIT")
        try:
            async with db.engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await db.dispose()

    _run(admin_execute(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    try:
        _run(_migrate(url))
        yield url
    finally:
        _run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_used(url: str) -> None:
    """TRUNCATE (RESTART IDENTITY) every table whose heap is not empty: the ones the last
    test wrote to, even if it deleted its rows or rolled them back. A fresh heap keeps
    rows in the order they are inserted, which some tests' unordered SELECTs see. Every
    table took 281 ms a test, a minute and a half of the suite on two workers; DELETE
    instead was 31 ms but left dead rows whose space later rows took, out of order."""
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            used = (
                await connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                        " AND tablename <> 'alembic_version'"
                        " AND pg_relation_size(format('%I.%I', schemaname, tablename)) > 0"
                    )
                )
            ).scalars()
            joined = ", ".join(f'"{name}"' for name in used)
            if joined:
                await connection.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database: once per engine."""
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "rose-cart.sqlite3")
        yield sqlite_url_for(tmp_path)
        return
    url = request.getfixturevalue("postgres_url")
    _run(_truncate_used(url))
    yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return app_settings(tmp_path, database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
        yield http
