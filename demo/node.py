"""One demo actor's composition: database, keys, inbox, outbox, workers and routes.

The same parts the cart is built from, wired the way service/ wires them, but small:
the demo trusts the cart (every Follow is accepted at once) and always allows private
addresses, since the three actors talk over loopback. Market and calendar each bring
their routes, their inbox handlers and their seed data; the rest is shared here.
Tests build a node with `workers=False` and drive it with `step()`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from actor import documents
from actor.authorized import signed_get_verifier
from actor.discovery import discovery_routes
from actor.fetch import Fetcher, FetchSettings
from actor.http_auth import SignatureAuth
from actor.identity import LocalActor
from actor.keys import ensure_keys, load_keys
from actor.remote import RemoteActors
from actor.roles import PeerRole
from actor.signatures import SigningKey
from demo.models import create_demo_tables
from demo.pages import stylesheet
from inbox.admission import RateLimiter
from inbox.group_commit import InboxWriter
from inbox.models import INBOX_CHANNEL
from inbox.receive import InboxReceiver
from inbox.registry import HandlerRegistry
from inbox.routes import inbox_routes
from inbox.worker import InboxWorker
from outbox.collections import outbox_routes
from outbox.followers import register_follow_handlers
from outbox.models import DELIVERIES_CHANNEL
from outbox.worker import DeliverySettings, DeliveryWorker
from store import Clock, Database, sqlite_url_for, upgrade, utcnow
from vocab.contexts import rose_terms
from vocab.parse import parse

log = logging.getLogger("rose_cart.demo")
BASE_URL_FILE = "base_url"  # written at start, so the CLI publishes under the same IRIs


@dataclass(frozen=True)
class Site:
    """A demo actor's IRIs, derived from its origin; needs no keys (the CLI uses it too)."""

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/actor"  # as actor.identity.LocalActor.id

    @property
    def followers(self) -> str:
        return f"{self.base_url}/followers"

    @property
    def catalog(self) -> str:
        return f"{self.base_url}/catalog"

    def iri(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def new_activity_id(self) -> str:
        # Under /activities/, where outbox_routes() serves what we published.
        return self.iri(f"activities/{uuid.uuid4().hex}")

    def local_id(self, iri: str, collection: str) -> str | None:
        """The slug of one of our `{base}/{collection}/{slug}` IRIs; None for anyone else's."""
        prefix = self.iri(f"{collection}/")
        slug = iri[len(prefix) :] if iri.startswith(prefix) else ""
        return slug if slug and "/" not in slug else None


@dataclass(frozen=True)
class NodeConfig:
    base_url: str
    username: str
    name: str
    data_dir: Path
    summary: str = ""
    cart: str | None = None  # the cart actor whose orders we answer; None: any sender
    workers: bool = True
    clock: Clock = utcnow  # the node's wall clock: its seed and its inbox handlers' `now`


Register = Callable[[HandlerRegistry, "DemoNode"], None]
Seed = Callable[[AsyncSession, Site, datetime], Awaitable[None]]  # ..., the node's now


def read_secret(data_dir: Path) -> str:
    """DATA_DIR/secret_key, created (mode 0600) on first start; seals the keys."""
    path = data_dir / "secret_key"
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def read_base_url(data_dir: Path) -> str:
    path = data_dir / BASE_URL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: start the actor once with this --data-dir")
    return path.read_text().strip()


def actor_extra(actor: LocalActor) -> dict[str, Any]:
    """`catalog` on the actor document, with a context that defines it (a rose: term)."""
    context = [*documents.actor_document(actor)["@context"], rose_terms()]
    return {"@context": context, "catalog": Site(actor.base_url).catalog}


async def problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    body = {
        "type": getattr(exc, "problem_type", "about:blank"),
        "title": exc.detail,
        "status": exc.status_code,
        "detail": exc.detail,
    }
    return JSONResponse(body, exc.status_code, exc.headers, media_type="application/problem+json")


@dataclass
class DemoNode:
    config: NodeConfig
    routes: list[BaseRoute]
    register: Register
    seed: Seed
    site: Site = field(init=False)
    db: Database = field(init=False)
    actor: LocalActor = field(init=False)
    inbox_worker: InboxWorker = field(init=False)
    delivery_worker: DeliveryWorker = field(init=False)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.site = Site(self.config.base_url)

    async def start(self, app: Starlette) -> None:
        config = self.config
        secret = read_secret(config.data_dir)
        self.db = Database(sqlite_url_for(config.data_dir))
        self._closers.append(self.db.dispose)
        await upgrade(self.db.engine)
        await create_demo_tables(self.db.engine)
        async with self.db.transaction() as session:
            await ensure_keys(session, secret)
        async with self.db.transaction() as session:
            keys = await load_keys(session, secret)
        bare = LocalActor(config.base_url, config.username, config.name, keys, config.summary)
        self.actor = replace(bare, extra=actor_extra(bare))
        async with self.db.transaction() as session:
            await self.seed(session, self.site, config.clock())
        (config.data_dir / BASE_URL_FILE).write_text(self.site.base_url)
        self._federate(app)
        if config.workers:
            self._tasks.append(asyncio.create_task(self.inbox_worker.run(self._stop)))
            self._tasks.append(asyncio.create_task(self.delivery_worker.run(self._stop)))
            # `market set-price` and the other CLI commands write from another process.
            channels = [INBOX_CHANNEL, DELIVERIES_CHANNEL]
            self._tasks.append(asyncio.create_task(self.db.listen(channels, self._stop)))
        log.info("demo actor ready", extra={"actor": self.actor.id})

    def _federate(self, app: Starlette) -> None:
        auth = SignatureAuth(SigningKey(self.actor.key_id, self.actor.keys.rsa.private))
        fetcher = Fetcher(
            FetchSettings(allow_private=True, user_agent=self.actor.user_agent), auth=auth
        )
        self._closers.append(fetcher.aclose)
        remote = RemoteActors(self.db, fetcher)
        registry = HandlerRegistry()

        def roles_of(_actor_id: str) -> Collection[str]:
            return {PeerRole.COOP}  # the demo trusts whoever follows it: the cart

        register_follow_handlers(registry, local_actor=self.actor, roles_of=roles_of, remote=remote)
        self.register(registry, self)
        writer = InboxWriter(self.db)
        writer.start()
        self._closers.append(writer.stop)
        receiver = InboxReceiver(
            keys=remote,
            registry=registry,
            writer=writer,
            roles_of=roles_of,
            limiter=RateLimiter(0.0, 1000),
            base_url=self.site.base_url,
        )
        self.inbox_worker = InboxWorker(self.db, registry, parse, clock=self.config.clock)
        self.delivery_worker = DeliveryWorker(
            self.db,
            auth,
            DeliverySettings(allow_private=True, user_agent=self.actor.user_agent),
            remote=remote,
        )
        self._closers.append(self.delivery_worker.aclose)
        app.state.actor, app.state.db, app.state.site = self.actor, self.db, self.site
        app.state.inbox_receiver = receiver
        app.state.signed_get_verifier = signed_get_verifier(remote, base_url=self.site.base_url)
        app.state.peer_iris = frozenset([self.config.cart] if self.config.cart else [])

    async def step(self) -> int:
        """One round of both workers; returns how much work there was."""
        return await self.inbox_worker.step() + await self.delivery_worker.step()

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            await task
        for closer in reversed(self._closers):
            await closer()

    def app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            try:
                await self.start(app)
                yield
            finally:
                await self.close()

        routes: list[BaseRoute] = [
            *inbox_routes(),
            *discovery_routes(),
            *outbox_routes(),
            Route("/demo.css", stylesheet, methods=["GET"]),
            *self.routes,
        ]
        return Starlette(
            routes=routes, lifespan=lifespan, exception_handlers={HTTPException: problem}
        )
