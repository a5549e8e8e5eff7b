"""Remote actors and their keys: fetched strictly, cached in the database, refreshed sparingly.

`RemoteActors` is the key resolver that signature verification asks. It strips the
fragment from a keyId to find the actor, fetches the actor when it is missing or older
than the TTL, and on `refresh=True` (a signature failed: the peer may have rotated its
key) fetches again, but at most once per actor per refresh interval (any fetch counts,
the first one too), whoever asks and however often: the claim on a fetch is a
conditional UPDATE of `last_refresh_attempt`, so it holds across processes too. A
flood of bad signatures therefore costs us at most one outgoing request per interval.
Actors answering 404/410 are marked gone.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, Text, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from actor.exceptions import FetchError
from actor.fetch import Fetched, Fetcher, FetchResult, Gone
from actor.fetch_budget import KeyFetchBudget
from actor.multibase import ed25519_from_multikey
from actor.origin import same_origin
from actor.remote_keys import keys_of, load_pem, shared_inbox
from actor.signature_types import PublicKey
from actor.verification import RemoteKey
from store import Base, Clock, Database, utcnow
from store.base import UTCDateTime

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(hours=24)
DEFAULT_REFRESH_INTERVAL = timedelta(seconds=60)
MEMO_SIZE = 4096
# The document of a row standing for a key URL (not an actor): {_POINTER: owner IRI}.
_POINTER = "rose:keyOwner"


class RemoteActorRow(Base):
    __tablename__ = "remote_actors"

    ap_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    inbox: Mapped[str | None] = mapped_column(Text, nullable=True)
    shared_inbox: Mapped[str | None] = mapped_column(Text, nullable=True)
    # {key id: publicKeyPem} of every publicKey entry the actor vouches for, in its order.
    public_keys: Mapped[dict[str, str] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    # {key id: publicKeyMultibase} of the Ed25519 assertionMethod keys (FEP-521a).
    multikeys: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_refresh_attempt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class RemoteActor:
    ap_id: str
    inbox: str | None
    shared_inbox: str | None
    document: dict[str, Any]


def _pointer_owner(row: RemoteActorRow | None) -> str | None:
    """For a key URL that is not its actor's IRI: the owner its server named."""
    if row is None or row.gone_at is not None or not isinstance(row.document, dict):
        return None
    owner = row.document.get(_POINTER)
    return owner if isinstance(owner, str) else None


def _key_in(row: RemoteActorRow | None, key_id: str, *, cached: bool = True) -> RemoteKey | None:
    """The key `key_id` names in the row: a listed key id, or the actor IRI itself.

    A keyId that is the bare actor IRI (activitypub-express, and servers signing that
    way) means the actor's main key: its first publicKey, else its first Multikey.
    """
    if row is None or row.gone_at is not None or row.document is None:
        return None
    pems, multikeys = row.public_keys or {}, row.multikeys or {}
    public: PublicKey | None = None
    if key_id in pems:
        public = load_pem(pems[key_id])
    elif key_id in multikeys:
        public = ed25519_from_multikey(multikeys[key_id])
    elif key_id == row.ap_id and (pems or multikeys):
        public = (
            load_pem(next(iter(pems.values())))
            if pems
            else ed25519_from_multikey(next(iter(multikeys.values())))
        )
    if public is None:
        return None
    return RemoteKey(key_id=key_id, owner=row.ap_id, public_key=public, cached=cached)


def why_no_key(row: RemoteActorRow | None, key_id: str) -> str:
    """What an operator needs to hear when `key_id` cannot be used, from what we hold."""
    actor = row.ap_id if row is not None else key_id.split("#", 1)[0]
    if row is None or (row.document is None and row.gone_at is None):
        return f"the actor {actor} could not be fetched to read the key {key_id}"
    if row.gone_at is not None:
        return f"the actor {actor} is gone (404/410), so its key {key_id} is not trusted"
    listed = sorted({*(row.public_keys or {}), *(row.multikeys or {})})
    if not listed:
        return f"the actor {actor} lists no public key we can use"
    return f"the actor {actor} does not list the key {key_id}; it lists " + ", ".join(listed)


def _row_for_key_sync(session: Session, key_id: str) -> RemoteActorRow | None:
    """A unit: the row for the document the key id points at, or for the owner it names.

    Only what the server at the key's own URL said counts: an actor that merely lists
    someone else's key id in its document cannot take that key over.
    """
    direct = session.get(RemoteActorRow, key_id.split("#", 1)[0])
    owner = _pointer_owner(direct)
    return session.get(RemoteActorRow, owner) if owner else direct


class RemoteActors:
    """The database-backed cache of remote actors; implements KeyResolver.key_for."""

    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        *,
        ttl: timedelta = DEFAULT_TTL,
        refresh_interval: timedelta = DEFAULT_REFRESH_INTERVAL,
        clock: Clock = utcnow,
        memo_seconds: float = 300.0,
        budget: KeyFetchBudget | None = None,
        peers: frozenset[str] = frozenset(),
    ) -> None:
        self.db = db
        self.fetcher = fetcher
        # Whether a key id on an actor we hold nothing of may be fetched (actor/fetch_budget.py).
        self.budget = budget if budget is not None else KeyFetchBudget()
        # Actor IRIs in PEERS: their keys are fetched whatever strangers on their host did.
        self.peers = peers
        self.ttl = ttl
        self.refresh_interval = refresh_interval
        self.clock = clock
        # Parsed keys in process memory, so a warm verification costs no database round trip
        # (~0.3 ms through aiosqlite). Another process's refetch reaches us within
        # memo_seconds, or at once when a signature fails with the remembered key.
        self.memo_for = min(timedelta(seconds=memo_seconds), ttl)
        self._memo: dict[str, tuple[RemoteKey, datetime]] = {}
        # One fetch per actor at a time in this process; the others wait and read its result.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        if not refresh:
            memo = self._memo.get(key_id)
            if memo is not None and memo[1] > self.clock():
                return memo[0]
        key, row = await self._key_for(key_id, refresh=refresh)
        if key is None or row is None or row.fetched_at is None:
            self._memo.pop(key_id, None)
        else:
            # Kept as cached=True: a failure with a remembered key may be a rotation.
            # Never past the database's TTL, so a stale actor is still refetched on time.
            until = min(self.clock() + self.memo_for, row.fetched_at + self.ttl)
            self._memo[key_id] = (replace(key, cached=True), until)
            if len(self._memo) > MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))
        return key

    async def _key_for(
        self, key_id: str, *, refresh: bool = False
    ) -> tuple[RemoteKey | None, RemoteActorRow | None]:
        row = await self._row_for_key(key_id)
        if row is not None and not refresh and self._fresh(row):
            key = _key_in(row, key_id)
            if key is not None or row.gone_at is not None:
                return key, row
            # A key id the actor did not list when we fetched it: perhaps a new key.
        ap_id = row.ap_id if row is not None else key_id.split("#", 1)[0]
        unknown = row is None and ap_id not in self.peers
        if unknown:
            self.budget.take(key_id)  # raises FetchRefused: no fetch, and no row
        async with self._lock(ap_id):
            if not await self._claim(ap_id):
                # Someone fetched (or tried) within the interval: their answer stands.
                row = await self._row_for_key(key_id)
                return _key_in(row, key_id), row
            await self._refetch_for_key(ap_id, key_id)
        row = await self._row_for_key(key_id)
        key = _key_in(row, key_id, cached=False)
        if unknown:
            (self.budget.succeeded if key is not None else self.budget.failed)(key_id)
        return key, row

    def remembers(self, key_id: str) -> bool:
        """Whether `key_id` needs no lookup at all: remembered here, or a peer's."""
        memo = self._memo.get(key_id)
        if memo is not None and memo[1] > self.clock():
            return True
        return key_id.split("#", 1)[0] in self.peers

    async def holds(self, key_id: str) -> bool:
        """Whether looking `key_id` up needs no fetch of a stranger's key: we remember it,
        hold a row for what it points at, or it is a peer's."""
        return self.remembers(key_id) or await self._row_for_key(key_id) is not None

    async def why_no_key(self, key_id: str) -> str:
        """Why `key_id` gave no key (after key_for said None), for the 401's detail."""
        return why_no_key(await self._row_for_key(key_id), key_id)

    async def actor(self, ap_id: str, *, refresh: bool = False) -> RemoteActor | None:
        """The actor's document (for its inboxes), fetched when missing or stale."""
        ap_id = ap_id.split("#", 1)[0]
        row = await self._row(ap_id)
        if row is None or refresh or not self._fresh(row):
            async with self._lock(ap_id):
                if await self._claim(ap_id):
                    await self._refetch(ap_id)
            row = await self._row(ap_id)
        if row is None or row.gone_at is not None or row.document is None:
            return None
        if _pointer_owner(row) is not None:
            return None
        return RemoteActor(row.ap_id, row.inbox, row.shared_inbox, row.document)

    async def mark_gone(self, ap_id: str) -> None:
        """The actor deleted itself (a signed Delete): forget its keys at once."""
        ap_id = ap_id.split("#", 1)[0]
        self.forget_keys(ap_id)
        await self._store_gone(ap_id)

    def forget_keys(self, ap_id: str) -> None:
        """Drop what this process remembers of the actor's keys (not the database row).

        Called from the inbox worker's unit too, on the database thread, while the event
        loop reads and fills the same memo: one item at a time, never iterating it live.
        """
        for key_id, (key, _) in list(self._memo.items()):
            if key.owner == ap_id:
                self._memo.pop(key_id, None)  # the event loop may have dropped it

    def expire(self, session: Session, ap_id: str) -> None:
        """In the caller's transaction: the actor changed; refetch it at next use.

        Its own signed Update is reason enough to fetch at once, inside the refresh
        interval too (the inbox's rate limit bounds how often it can ask).
        """
        self.forget_keys(ap_id)
        session.execute(
            update(RemoteActorRow)
            .where(RemoteActorRow.ap_id == ap_id)
            .values(fetched_at=None, last_refresh_attempt=None)
        )

    def gone(self, session: Session, ap_id: str, now: datetime) -> None:
        """In the caller's transaction: the actor deleted itself; trust none of its keys."""
        self.forget_keys(ap_id)
        session.execute(
            update(RemoteActorRow).where(RemoteActorRow.ap_id == ap_id).values(gone_at=now)
        )

    def _lock(self, ap_id: str) -> asyncio.Lock:
        lock = self._locks.get(ap_id)
        if lock is None:
            lock = self._locks[ap_id] = asyncio.Lock()
        return lock

    def _fresh(self, row: RemoteActorRow) -> bool:
        seen = row.gone_at or row.fetched_at
        return seen is not None and self.clock() - seen < self.ttl

    # Read units: every key the memo does not hold asks, a stranger's made-up ones too,
    # and through an async session each ``get`` cost an aiosqlite hand-off.
    async def _row(self, ap_id: str) -> RemoteActorRow | None:
        return await self.db.read(lambda session: session.get(RemoteActorRow, ap_id))

    async def _row_for_key(self, key_id: str) -> RemoteActorRow | None:
        return await self.db.read(_row_for_key_sync, key_id)

    async def _claim(self, ap_id: str) -> bool:
        """Take the right to fetch `ap_id` now; False if a fetch was tried within the interval."""
        return await self.db.write(self._claimed, ap_id, self.clock())

    def _claimed(self, session: Session, ap_id: str, now: datetime) -> bool:
        """The unit of `_claim`: a row stamped with this attempt, or an old one re-stamped."""
        inserted = session.execute(
            self._insert()
            .values(ap_id=ap_id, last_refresh_attempt=now)
            .on_conflict_do_nothing(index_elements=["ap_id"])
        )
        if inserted.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult
            return True
        claimed = session.execute(
            update(RemoteActorRow)
            .where(
                RemoteActorRow.ap_id == ap_id,
                or_(
                    RemoteActorRow.last_refresh_attempt.is_(None),
                    RemoteActorRow.last_refresh_attempt <= now - self.refresh_interval,
                ),
            )
            .values(last_refresh_attempt=now)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    async def _fetch(self, url: str, *, require_id: bool = True) -> FetchResult | None:
        try:
            return await self.fetcher.fetch(url, require_id=require_id)
        except FetchError as error:
            # The cached copy, if any, stays in use: a peer that is down for a minute
            # should not make its deliveries fail.
            log.warning("fetching %s failed: %s", url, error)
            return None

    async def _refetch(self, ap_id: str) -> None:
        result = await self._fetch(ap_id)
        if isinstance(result, Gone):
            await self._store_gone(ap_id)
        elif isinstance(result, Fetched):
            await self._store(result.document)

    async def _refetch_for_key(self, url: str, key_id: str) -> None:
        """Fetch what the key id points at and store the actor that vouches for the key.

        Usually that is the actor itself (Mastodon's `actor#main-key`). Some servers
        (GoToSocial's `actor/main-key`) answer a stub or a key document instead; it is
        only a pointer to its owner, whose document must itself list the key.
        """
        result = await self._fetch(url, require_id=False)
        if isinstance(result, Gone):
            await self._store_gone(url)
            return
        if not isinstance(result, Fetched):
            return
        document = result.document
        if document.get("id") == result.url and "inbox" in document:
            await self._store(document)
            return
        owner = document.get("owner") or document.get("controller") or document.get("id")
        if not isinstance(owner, str) or owner == result.url:
            log.warning("the key document %s names no owner actor", result.url)
            return
        if not same_origin(owner, key_id):
            log.warning("key %s claims an owner on another origin: %s", key_id, owner)
            return
        actor = await self._fetch(owner)
        if isinstance(actor, Gone):
            await self._store_gone(owner)
        elif isinstance(actor, Fetched):
            await self._store(actor.document)
            if key_id in keys_of(actor.document).ids():
                # Remember where this key id leads, so the next lookup needs no fetch.
                pointer = {
                    "document": {_POINTER: owner},
                    "fetched_at": self.clock(),
                    "gone_at": None,
                }
                await self._upsert(url, pointer)
            else:
                log.warning("actor %s does not list the key %s", owner, key_id)

    async def _store(self, document: dict[str, Any]) -> None:
        keys = keys_of(document)
        inbox = document.get("inbox")
        values = {
            "inbox": inbox if isinstance(inbox, str) else None,
            "shared_inbox": shared_inbox(document),
            "public_keys": keys.public_keys,
            "multikeys": keys.multikeys,
            "document": document,
            "fetched_at": self.clock(),
            "gone_at": None,
        }
        await self._upsert(str(document["id"]), values)

    async def _store_gone(self, ap_id: str) -> None:
        await self._upsert(ap_id, {"gone_at": self.clock()})

    async def _upsert(self, ap_id: str, values: dict[str, Any]) -> None:
        await self.db.write(self._upserted, ap_id, values)

    def _upserted(self, session: Session, ap_id: str, values: dict[str, Any]) -> None:
        statement = self._insert().values(ap_id=ap_id, **values)
        session.execute(statement.on_conflict_do_update(index_elements=["ap_id"], set_=values))

    def _insert(self) -> Any:
        module = postgresql if self.db.engine.dialect.name == "postgresql" else sqlite
        return module.insert(RemoteActorRow)
