"""Wiring of the federation parts for one process: fetcher, key cache, inbox, workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from actor.fetch import Fetcher
from actor.http_auth import SignatureAuth
from actor.identity import LocalActor
from actor.remote import RemoteActors
from actor.signatures import SigningKey
from inbox.actor_handlers import register_actor_handlers
from inbox.limits import RateLimiter
from inbox.receive import InboxReceiver
from inbox.registry import HandlerRegistry
from inbox.worker import InboxWorker
from inbox.writer import InboxWriter
from service.settings import Settings
from store import Database
from vocab.parse import parse

log = logging.getLogger("rose_cart.federation")


@dataclass
class Federation:
    """Everything a process needs to speak ActivityPub; built at start-up, closed at stop."""

    auth: SignatureAuth
    fetcher: Fetcher
    remote: RemoteActors
    registry: HandlerRegistry
    writer: InboxWriter
    receiver: InboxReceiver
    inbox_worker: InboxWorker
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def start_workers(self) -> None:
        self.tasks.append(asyncio.create_task(self.inbox_worker.run(self.stop), name="inbox-worker"))

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            await task
        await self.writer.stop()
        await self.fetcher.aclose()


def roles_from(settings: Settings) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for peer in settings.peers:
        roles.setdefault(peer.actor_id, set()).add(peer.role)
    return roles


def build_federation(settings: Settings, db: Database, actor: LocalActor) -> Federation:
    auth = SignatureAuth(SigningKey(actor.key_id, actor.keys.rsa.private))
    fetcher = Fetcher(allow_private=settings.allow_private_addresses, auth=auth)
    remote = RemoteActors(db, fetcher)
    registry = HandlerRegistry()
    register_actor_handlers(registry, remote)
    writer = InboxWriter(db)
    writer.start()
    peer_roles = roles_from(settings)

    def roles_of(actor_id: str) -> Collection[str]:
        return peer_roles.get(actor_id, ())

    receiver = InboxReceiver(
        keys=remote,
        parse=parse,
        registry=registry,
        writer=writer,
        roles_of=roles_of,
        limiter=RateLimiter(settings.inbox_rate_limit, settings.inbox_burst),
        scheme=settings.base_url.split("://", 1)[0],
    )
    worker = InboxWorker(db, registry, parse)
    return Federation(auth, fetcher, remote, registry, writer, receiver, worker)
