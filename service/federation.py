"""Wiring of the federation parts for one process: fetcher, key cache, inbox, workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from actor.authorized import origins_of
from actor.fetch import Fetcher, FetchSettings
from actor.fetch_budget import KeyFetchBudget
from actor.http_auth import SignatureAuth
from actor.identity import LocalActor
from actor.incoming import HandlerRegistrar
from actor.remote import RemoteActors
from actor.remote_retention import purge_untrusted_actors
from actor.roles import CATALOGUE_ROLES, PeerRole
from actor.signatures import SigningKey
from cart.admin.audit import purge_audit
from cart.basket.purge import purge_anonymous_lines
from cart.catalog.backfill_jobs import BACKFILL_CHANNEL, BackfillRunner, request_backfill
from cart.catalog.handlers import register_catalog_handlers
from cart.catalog.image_fetch import ImageFetcher
from cart.catalog.images import IMAGES_CHANNEL, purge_images
from cart.catalog.page_details import PAGES_CHANNEL, PageDetails
from cart.identity.registrations import purge_pending
from cart.identity.sessions import purge_expired_sessions
from cart.orders.claims import register_claim_handlers
from cart.orders.reconcile import reconcile_pending
from cart.orders.retention import forget_unpaid
from inbox.actor_handlers import register_actor_handlers
from inbox.admission import RateLimiter, StrangerBudget
from inbox.group_commit import InboxWriter
from inbox.handoff import Handoff
from inbox.models import INBOX_CHANNEL
from inbox.receive import InboxReceiver
from inbox.registry import HandlerRegistry
from inbox.retention import keep_strangers_newest, purge_ignored
from inbox.worker import InboxWorker
from mail.models import MAIL_CHANNEL
from mail.sender import MailSender
from outbox.followers import register_follow_handlers, send_follow
from outbox.hosts import mark_all_contacted
from outbox.models import DELIVERIES_CHANNEL, Follow, Follower
from outbox.retention import keep_newest_follow_requests
from outbox.worker import DeliverySettings, DeliveryWorker
from payments.provider import PaymentProvider
from service.mailing import build_mail_sender
from service.settings import Settings
from store import Clock, Database, repeat, utcnow
from store.throttle import purge_throttle_hits
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
    delivery_worker: DeliveryWorker
    backfills: BackfillRunner
    purge: Callable[[], Awaitable[int]]
    reconcile: Callable[[], Awaitable[object]]
    mail: MailSender | None = None
    pages: PageDetails | None = None
    images: ImageFetcher | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def start_workers(self) -> None:
        self.tasks.append(
            asyncio.create_task(self.inbox_worker.run(self.stop), name="inbox-worker")
        )
        self.tasks.append(
            asyncio.create_task(self.delivery_worker.run(self.stop), name="delivery-worker")
        )
        wakeups = self.backfills.db.wakeups
        loops = [
            ("catalog-backfill", self.backfills.step, 60.0, wakeups.event(BACKFILL_CHANNEL)),
            ("payment-reconciler", self.reconcile, 30.0, None),
            # every 10 minutes: the inbox budgets allow ~12k ignored records in that time
            ("cart-purge", self.purge, 600.0, None),
        ]
        if self.pages is not None:  # foreign pages, dereferenced outside the inbox worker
            loops.append(("page-details", self.pages.step, 60.0, wakeups.event(PAGES_CHANNEL)))
        if self.images is not None:  # product pictures, fetched outside every unit
            loops.append(("catalog-images", self.images.step, 60.0, wakeups.event(IMAGES_CHANNEL)))
        if self.mail is not None:
            loops += [
                ("mail-sender", self.mail.step, 60.0, wakeups.event(MAIL_CHANNEL)),
                ("mail-purge", self.mail.purge, 3600.0, None),
            ]
        for name, step, idle, wake in loops:
            self.tasks.append(
                asyncio.create_task(repeat(name, step, self.stop, idle=idle, wake=wake), name=name)
            )
        # Wake when another process (a web process, the CLI) writes work.
        channels = [
            INBOX_CHANNEL,
            DELIVERIES_CHANNEL,
            BACKFILL_CHANNEL,
            MAIL_CHANNEL,
            IMAGES_CHANNEL,
            PAGES_CHANNEL,
        ]
        self.tasks.append(
            asyncio.create_task(self.backfills.db.listen(channels, self.stop), name="listen")
        )

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            await task
        await self.writer.stop()
        await self.delivery_worker.aclose()
        await self.fetcher.aclose()
        if self.images is not None:
            await self.images.aclose()


def roles_from(settings: Settings) -> dict[str, set[PeerRole]]:
    roles: dict[str, set[PeerRole]] = {}
    for peer in settings.peers:
        roles.setdefault(peer.actor_id, set()).add(peer.role)
    return roles


def register_handlers(
    registry: HandlerRegistrar,
    actor: LocalActor,
    remote: RemoteActors,
    roles_of: Callable[[str], Collection[str]],
) -> None:
    """Every inbox handler the cart runs: one per kind of activity and what it is about."""

    def on_follow_accepted(session: Session, peer: str, now: datetime) -> None:
        roles = [r for r in roles_of(peer) if r in CATALOGUE_ROLES]
        request_backfill(session, peer, roles[0] if roles else None, now=now)

    register_actor_handlers(registry, remote)
    register_follow_handlers(
        registry,
        local_actor=actor,
        roles_of=roles_of,
        remote=remote,
        on_follow_accepted=on_follow_accepted,
    )
    register_catalog_handlers(registry)
    register_claim_handlers(registry, local_actor=actor)


def build_federation(
    settings: Settings,
    db: Database,
    actor: LocalActor,
    provider: PaymentProvider,
    clock: Clock = utcnow,
) -> Federation:
    auth = SignatureAuth(SigningKey(actor.key_id, actor.keys.rsa.private))
    fetcher = Fetcher(
        FetchSettings(allow_private=settings.allow_private_addresses, user_agent=actor.user_agent),
        auth=auth,
    )
    budget = KeyFetchBudget(
        rate=settings.key_fetch_host_rate,
        burst=settings.key_fetch_host_burst,
        negative_for=float(settings.key_fetch_negative_seconds),
    )
    peer_iris = frozenset(peer.actor_id for peer in settings.peers)
    remote = RemoteActors(db, fetcher, budget=budget, peers=peer_iris)
    registry = HandlerRegistry()
    peer_roles = roles_from(settings)

    def roles_of(actor_id: str) -> Collection[str]:
        return peer_roles.get(actor_id, ())

    register_handlers(registry, actor, remote, roles_of)
    writer = InboxWriter(db)
    writer.start()
    handoff = Handoff()  # what the receiver parsed, for this process's inbox worker

    receiver = InboxReceiver(
        keys=remote,
        registry=registry,
        writer=writer,
        roles_of=roles_of,
        limiter=RateLimiter(settings.inbox_rate_limit, settings.inbox_burst),
        strangers=StrangerBudget(
            host_rate=settings.inbox_host_rate,
            host_burst=settings.inbox_host_burst,
            total_rate=settings.inbox_strangers_rate,
            total_burst=settings.inbox_strangers_burst,
        ),
        base_url=settings.base_url,
        handoff=handoff,
        peer_origins=origins_of(peer_iris),
    )
    worker = InboxWorker(db, registry, parse, on_processed=mark_all_contacted, handoff=handoff)
    deliveries = DeliveryWorker(
        db,
        auth,
        DeliverySettings(
            allow_private=settings.allow_private_addresses, user_agent=actor.user_agent
        ),
        remote=remote,
    )
    max_age = timedelta(days=settings.cart_max_age_days)

    ignored_age = timedelta(days=settings.inbox_ignored_days)
    strangers_age = timedelta(hours=settings.remote_actor_retention_hours)
    peers = [peer.actor_id for peer in settings.peers]
    ours = union(select(Follower.ap_actor_id), select(Follow.ap_object_id))

    def lines(session: Session, now: datetime) -> int:
        return purge_anonymous_lines(session, max_age, now=now)

    def unpaid(session: Session, now: datetime) -> int:
        return forget_unpaid(session, max_age, now=now)

    def ignored(session: Session, now: datetime) -> int:
        return purge_ignored(session, ignored_age, settings.inbox_ignored_max, now=now)

    def strangers(session: Session, now: datetime) -> int:
        return purge_untrusted_actors(
            session, keep=peers, keep_query=ours, older_than=strangers_age, now=now
        )

    rules: tuple[Callable[..., int], ...] = (  # each a unit: rule(session, now=now)
        lines,
        purge_throttle_hits,
        unpaid,
        purge_audit,
        purge_expired_sessions,
        ignored,
        purge_images,
        purge_pending,
        strangers,
    )

    async def purge() -> int:
        """The clean-up loop: every table that grows from outside has its rule here, each
        rule a unit of work of its own (store/units.py), and the count caps a unit per
        1,000 rows (store/retention.py): other writes get the lock between them, and no
        rule holds it across the event loop's turns."""
        now = clock()
        removed = sum([await db.write(rule, now=now) for rule in rules])
        removed += await keep_strangers_newest(db, settings.inbox_strangers_max, peers)
        return removed + await keep_newest_follow_requests(db, settings.follow_requests_max, peers)

    async def reconcile() -> object:
        # lost webhooks, expired checkouts, refunds asked for by a calendar's Reject
        return await reconcile_pending(db, provider, actor, now=clock())

    backfills = BackfillRunner(db, fetcher, auth)
    return Federation(
        auth,
        fetcher,
        remote,
        registry,
        writer,
        receiver,
        worker,
        deliveries,
        backfills,
        purge,
        reconcile,
        mail=build_mail_sender(settings, db),
        pages=PageDetails(db, fetcher),
        images=ImageFetcher(
            db, allow_private=settings.allow_private_addresses, user_agent=actor.user_agent
        ),
    )


async def follow_peers(db: Database, actor: LocalActor, settings: Settings) -> int:
    """Send our Follow to every market and calendar peer that has not accepted one yet."""
    sent = 0
    async with db.transaction() as session:
        for peer in settings.peers:
            if peer.role in CATALOGUE_ROLES and await send_follow(session, actor, peer.actor_id):
                sent += 1
    return sent
