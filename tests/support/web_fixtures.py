"""Fixtures for every test of the web side: the app in process, its clients, the admin, the CLI,
the checkout shop with the sandbox (`shop`).

The apps read the wall clock from `app_clock` (`store.utcnow`); a test module that
overrides that fixture with a `tests/support/clock.Clock` moves the apps' time itself.

Registered for the whole suite by tests/conftest.py (`pytest_plugins`), so a test in any
folder takes them by name instead of importing them from another test module. Helpers
that are not fixtures stay in tests/cart/web_support.py, admin_support.py and
checkout_support.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from cart.identity.accounts import Passwords, Role, register
from cart.web import configure_web
from cart.web.checkout_routes import checkout_routes
from cart.web.orders_routes import orders_routes
from service.app import create_app
from service.cli import main
from service.settings import Settings, parse_peers
from store import Clock, utcnow
from tests.cart.admin_support import CALENDAR, MARKET, OPERATOR, PASSWORD
from tests.cart.shop_support import CountingProvider, Shop
from tests.cart.web_support import (
    CHEAP_PASSWORDS,
    EMBEDDING_ORIGIN,
    login,
    new_client,
    with_cart_routes,
)
from tests.conftest import TEST_SECRET
from tests.payments.support import running_sandbox


@pytest.fixture
def app_clock() -> Clock:
    """The wall clock the apps below are built with."""
    return utcnow


@pytest.fixture
async def web_app(settings: Settings, app_clock: Clock) -> AsyncIterator[Starlette]:
    app = with_cart_routes(create_app(settings, clock=app_clock))
    async with app.router.lifespan_context(app):
        config = configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
        config.embedding_origins = frozenset({EMBEDDING_ORIGIN})
        yield app


@pytest.fixture
async def web_client(web_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web_app) as client:
        yield client


@pytest.fixture
async def admin_app(settings: Settings) -> AsyncIterator[Starlette]:
    peers = parse_peers(f"market={MARKET},calendar={CALENDAR}")
    app = create_app(settings.model_copy(update={"peers": peers}))
    async with app.router.lifespan_context(app):
        config = configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
        await register(app.state.db, config.passwords, OPERATOR, PASSWORD, role=Role.OPERATOR)
        yield app


@pytest.fixture
async def anonymous(admin_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(admin_app) as client:
        yield client


@pytest.fixture
async def operator(admin_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(admin_app) as client:
        answer = await login(client, OPERATOR, PASSWORD)
        assert answer.status_code == 303
        yield client


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in {
        "ROSE_CART_DATA_DIR": str(tmp_path),
        "ROSE_CART_DATABASE_URL": database_url,
        "ROSE_CART_SECRET_KEY": TEST_SECRET,
        "ROSE_CART_BASE_URL": "https://cart.test",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> str:
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return run


@pytest.fixture
async def shop(settings: Settings, app_clock: Clock) -> AsyncIterator[Shop]:
    async with running_sandbox(webhook_shape="none") as harness:
        app = create_app(settings, clock=app_clock)
        app.router.routes[0:0] = [*checkout_routes(), *orders_routes()]
        with_cart_routes(app)
        async with app.router.lifespan_context(app):
            configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
            provider = CountingProvider(harness.client)
            app.state.payment_provider = provider
            async with new_client(app) as client:
                yield Shop(app, harness, client, provider)
