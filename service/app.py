"""The app factory: builds the Starlette app for one settings object.

Start-up (the lifespan) opens the database, applies migrations, makes sure the key
pairs exist and loads them, and puts the local actor and the database on app.state for
the routes. Nothing is loaded at import time.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

import cart
from actor.authorized import origins_of, signed_get_verifier
from actor.discovery import discovery_routes
from actor.identity import LocalActor
from actor.keys import ensure_keys, load_keys
from cart.admin import admin_routes
from cart.web import cart_routes, configure_web
from cart.web.checkout_routes import checkout_routes
from cart.web.orders_routes import orders_routes
from inbox.routes import INBOX_PATHS, inbox_routes
from outbox.collections import outbox_routes
from service.errors import exception_handlers
from service.federation import build_federation, follow_peers
from service.health import health_routes
from service.metrics import metrics_routes
from service.middleware import EdgeMiddleware, InboxLane
from service.pacing import Pacer, federation_rule
from service.payments import Payments
from service.settings import Settings
from service.vocabulary import vocabulary_routes
from store import Clock, Database, upgrade, utcnow
from vocab.ns_page import nodeinfo_metadata

log = logging.getLogger("rose_cart.app")
STATIC_DIR = Path(cart.__file__).parent / "web" / "static"


async def prepare(settings: Settings, db: Database) -> LocalActor:
    """Migrate, make sure keys exist, and load the local actor. Idempotent."""
    await upgrade(db.engine)
    secret = settings.secret()
    async with db.transaction() as session:
        await ensure_keys(session, secret)
    async with db.transaction() as session:
        keys = await load_keys(session, secret)
    return LocalActor(
        base_url=settings.base_url,
        username=settings.username,
        name="Co-op cart",
        summary="The shopping cart, checkout and order service of the co-operative.",
        keys=keys,
    )


_heap_settled = False


def settle_heap() -> None:
    """Once started, keep the cyclic garbage collector off what lives as long as the process.

    Once the app is up, ~140,000 objects the collector tracks exist (modules, SQLAlchemy's
    tables and mappers, compiled statements, the settings) and they live as long as the
    process, yet every collection of the oldest generation walked them all again: under
    bench/cart's 32 shoppers the collector took ~250 us per GET /cart (docs/design.md,
    "Units of work"). `gc.freeze()` moves them to a generation that is never collected,
    after start-up's own garbage is collected. Once per process: a second app in the same
    process (tests) changes nothing.
    """
    global _heap_settled
    if _heap_settled:
        return
    _heap_settled = True
    gc.collect()
    gc.freeze()


class RoseCartApp(Starlette):
    """Starlette with our one edge wrapper outermost, so even a 500 page carries the
    request id and the security headers, and a paced request reaches nothing else."""

    https = False
    pacer: Pacer | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return EdgeMiddleware(stack, https=self.https, pacer=self.pacer)


def create_app(
    settings: Settings, *, pacer: Pacer | None = None, clock: Clock = utcnow
) -> Starlette:
    """The app; ``pacer`` is the per-client pacing (tests pass one with their own clock),
    ``clock`` the wall clock of its shopper and admin requests and its clean-up loop."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = settings.database()
        federation = None
        try:
            provider = await payments.start()
            app.state.payment_provider = provider
            app.state.payments = payments
            app.state.actor = await prepare(settings, db)
            app.state.db = db
            app.state.settings = settings
            configure_web(app.state)
            app.state.nodeinfo_metadata = nodeinfo_metadata()
            federation = build_federation(settings, db, app.state.actor, provider, clock)
            app.state.federation = federation
            app.state.inbox_receiver = federation.receiver
            app.state.peer_iris = frozenset(peer.actor_id for peer in settings.peers)
            app.state.signer_keys = federation.remote  # held keys: outbox/collections.py
            app.state.signed_get_verifier = signed_get_verifier(
                federation.remote, base_url=settings.base_url
            )
            if settings.workers:
                await follow_peers(db, app.state.actor, settings)
                federation.start_workers()
            log.info("serving", extra={"actor": app.state.actor.id, "workers": settings.workers})
            settle_heap()
            yield
        finally:
            if federation is not None:
                await federation.close()
            await payments.stop()
            await db.dispose()

    payments = Payments.for_settings(settings)
    routes = [
        # The inbox is the hottest path: matched first. Then the shopper's pages: every
        # route tried before the one that matches is a regex match (GET /cart was 29th).
        *inbox_routes(),
        *cart_routes(),
        *health_routes,
        *metrics_routes,
        *discovery_routes(),
        *outbox_routes(),
        *vocabulary_routes,
        *checkout_routes(),
        *orders_routes(),
        *admin_routes(),
        *payments.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = RoseCartApp(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=exception_handlers,
        middleware=[Middleware(InboxLane, paths=INBOX_PATHS)],
    )
    app.https = settings.base_url.startswith("https://")
    if pacer is None:
        rule = federation_rule(settings.federation_client_rate, settings.federation_client_burst)
        peers = origins_of(peer.actor_id for peer in settings.peers)
        pacer = Pacer(federation=rule, peer_origins=peers)
    app.pacer = app.state.pacer = pacer
    app.state.clock = clock
    return app
