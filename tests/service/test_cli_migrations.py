"""`rose-cart migrations status|down`, run as an operator rolling a release back (SQLite;
every downgrade on both engines is tests/store/test_migration_downgrades.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from service.cli import main
from store import sqlite_url_for
from store.migrate import alembic_config, head_revision
from tests.conftest import TEST_SECRET

Run = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name, value in {
        "ROSE_CART_DATA_DIR": str(tmp_path),
        "ROSE_CART_DATABASE_URL": sqlite_url_for(tmp_path),
        "ROSE_CART_SECRET_KEY": TEST_SECRET,
        "ROSE_CART_BASE_URL": "https://cart.test",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def _schema(tmp_path: Path) -> dict[str, tuple[object, ...]]:
    """Each table's columns and indexes, and the triggers, but the version row's table
    (SQLite keeps each table's SQL as written, which a batch migration words anew)."""
    with sqlite3.connect(tmp_path / "rose-cart.sqlite3") as connection:
        found: dict[str, tuple[object, ...]] = {}
        for kind, name in connection.execute("SELECT type, name FROM sqlite_master"):
            if kind == "table" and name != "alembic_version":
                columns = connection.execute(f'PRAGMA table_info("{name}")').fetchall()
                indexes = connection.execute(f'PRAGMA index_list("{name}")').fetchall()
                found[name] = (sorted(columns), sorted(row[1:3] for row in indexes))
            elif kind == "trigger":
                found[name] = (kind,)
        return found


def test_status_says_where_the_schema_is_and_down_takes_it_back_a_release(
    cli: Run, tmp_path: Path
) -> None:
    head = head_revision()
    assert head is not None
    before = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(before, str)
    assert "empty" in cli("migrations", "status").output
    assert cli("init").exit_code == 0
    status = cli("migrations", "status").output
    assert f"database      {head}" in status and "up to date" in status
    newest = _schema(tmp_path)

    refused = cli("migrations", "down", before)  # no --yes: nothing happens
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert "up to date" in cli("migrations", "status").output
    unknown = cli("migrations", "down", "0000_nothing", "--yes")
    assert unknown.exit_code != 0 and "not a revision" in unknown.output

    done = cli("migrations", "down", before, "--yes")
    assert done.exit_code == 0, done.output
    status = cli("migrations", "status").output
    assert f"database      {before}" in status and "behind" in status
    assert _schema(tmp_path) != newest  # the newest migration is undone

    assert cli("init").exit_code == 0  # the newer release migrates up again
    assert "up to date" in cli("migrations", "status").output
    assert _schema(tmp_path) == newest
