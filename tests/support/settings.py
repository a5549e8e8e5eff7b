"""The settings every test app runs with, in one place (the `settings` fixture, the
shared read-only app, the tests that build their own apps), and which engines a test
runs on.

Every test that takes `db` or an app runs on SQLite and again on PostgreSQL (when
ROSE_CART_TEST_POSTGRES_URL is set). A module whose tests exercise nothing that differs
between the engines (parsing input, negotiating content types, error shapes) says so
with `pytestmark = SQLITE_ONLY` and runs once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TEST_SECRET = "test-secret-" + "x" * 40


def app_settings(data_dir: Path, database_url: str) -> Settings:
    """The app's settings in tests: a pool of ONE connection with a short wait, on both
    engines, so a handler that held a connection while it (or a key fetch, or a provider
    call) needed another fails here instead of waiting (issue 14)."""
    return Settings(
        base_url="https://cart.test",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=TEST_SECRET,
        workers=False,
        sumup_sandbox=True,
        database_pool_size=1,
        database_pool_timeout=10.0,
    )
