"""One app for a whole test module whose tests only read: `shared_app`, `shared_client`.

Starting the app (lifespan: database, keys, federation parts) costs more than most
requests a test sends. A module whose every test only reads (content negotiation,
discovery documents, error shapes) starts it once, on SQLite, and sends its requests
in process. Such a module opts in with

    pytestmark = SHARED_APP

which runs its tests in the module's event loop (the app's connections belong to the
loop that opened them). A test that writes takes the per-test `app`/`client` instead,
so tests never see each other's changes.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from service.app import create_app
from store import sqlite_url_for
from tests.support.settings import app_settings

SHARED_APP = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_app(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> AsyncIterator[Starlette]:
    folder = tmp_path_factory.mktemp("shared-app")
    shutil.copy(sqlite_template, folder / "rose-cart.sqlite3")
    application = create_app(app_settings(folder, sqlite_url_for(folder)))
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_client(shared_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=shared_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://cart.test") as http:
        yield http
