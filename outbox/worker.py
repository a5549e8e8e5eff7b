"""The delivery worker: claim due deliveries, sign and POST them, record what happened.

One `step()` is one batch: hold deliveries of unavailable hosts, claim due rows under a
lease (queue.py), resolve inboxes that were unknown at publish time, then send every
delivery through ONE pooled `httpx.AsyncClient` behind the SSRF guard, at most
`concurrency` at a time overall and `per_host` per host (one, for a host whose breaker
is half-open: that delivery is the probe). schedule.py says what each answer means
and when to try again.

Every database step of a batch (the claim, the reads before sending, each flush of
outcomes, each lease renewal) is a unit of work (store/units.py), handed whole to the
database's thread: no step holds a connection, or SQLite's write lock, while the event
loop serves anything else, and the POSTs happen between units, never inside one.

Crash safety: nothing is marked done before its POST was answered. Outcomes are
recorded as they come in (recorder.py: every 200 results or every second), and the
leases of a long batch are renewed while it runs. A worker killed mid-batch leaves its
unrecorded rows leased; the lease runs out and another worker (or this one, restarted)
sends them again. Receivers see a repeat at worst, with the same activity id and body.

Within a batch the breaker is also applied in memory: once a host reaches the failure
threshold, its remaining deliveries in the batch are released untried, so a dead host
with a thousand queued deliveries costs a handful of timeouts, not a thousand.
Tests call `step()` with an injected clock; `run()` loops it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from actor.exceptions import BlockedAddress
from actor.guard import guarded_transport
from actor.http_auth import SignatureAuth
from actor.identity import user_agent as product_user_agent
from actor.negotiation import AS2
from actor.origin import origin_of
from actor.remote import RemoteActorRow, RemoteActors
from actor.schemes import load_memory
from outbox.hosts import host_failures
from outbox.models import DELIVERIES_CHANNEL
from outbox.queue import Claimed, Result, bodies, claim, extend_leases, resolved
from outbox.recorder import OutcomeLog
from outbox.schedule import BREAKER_THRESHOLD, Outcome, classify, next_attempt, parse_retry_after
from outbox.states import DeliveryState
from store import Clock, Database, repeat, utcnow
from store.held import outside_units

log = logging.getLogger("rose_cart.outbox.worker")

LEASE = timedelta(minutes=5)
TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=30.0)
TOTAL_SECONDS = 30.0  # one delivery, double-knock included
# Queued deliveries are announced (store/wakeups.py), and so is a retry we schedule when
# it falls due; this poll finds a lease that ran out, a breaker that closed, another
# process's retry.
SAFETY_POLL = 60.0


def _retryable_block(error: BlockedAddress) -> bool:
    # A name that does not resolve may resolve later; a private address will not change.
    text = str(error)
    return "cannot resolve" in text or "has no addresses" in text


class _Batch:
    """In-memory host state for one batch: limits and the in-batch breaker."""

    def __init__(self, failures: dict[str, int], per_host: int) -> None:
        self.failures = Counter(failures)
        self.half_open = {host for host, count in failures.items() if count >= BREAKER_THRESHOLD}
        self.per_host = per_host
        self.limits: dict[str, asyncio.Semaphore] = {}

    def limit(self, host: str) -> asyncio.Semaphore:
        if host not in self.limits:
            self.limits[host] = asyncio.Semaphore(1 if host in self.half_open else self.per_host)
        return self.limits[host]

    def broken(self, host: str) -> bool:
        return self.failures[host] >= BREAKER_THRESHOLD

    def answered(self, host: str, failed: bool) -> None:
        # Either way the probe of a half-open host is over: it closed or opened again.
        self.half_open.discard(host)
        if failed:
            self.failures[host] += 1
        else:
            self.failures[host] = 0


@dataclass(frozen=True)
class DeliverySettings:
    """How the delivery worker sends: built once from the service's settings (or a test's)
    and passed whole, so a new knob is one field here instead of a parameter at every
    call site."""

    allow_private: bool = False  # loopback and private addresses (tests, the demo)
    concurrency: int = 32  # POSTs in flight at once, overall
    per_host: int = 4  # ... and per host (one to a half-open host)
    batch: int = 500  # deliveries claimed per step
    lease: timedelta = LEASE
    timeout: httpx.Timeout = field(default_factory=lambda: TIMEOUT)
    total_seconds: float = TOTAL_SECONDS  # one delivery, double-knock included
    user_agent: str | None = None


class DeliveryWorker:
    """Sends due deliveries. `settings` says how; the rest are its collaborators: the
    database, our signing key, the remote actor cache (to resolve inboxes unknown at
    publish time), the clock, and for tests a transport and the jitter's random source."""

    def __init__(
        self,
        db: Database,
        auth: SignatureAuth,
        settings: DeliverySettings = DeliverySettings(),  # noqa: B008 (frozen, shared safely)
        *,
        remote: RemoteActors | None = None,
        clock: Clock = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.auth = auth
        self.remote = remote
        self.clock = clock
        self.settings = settings
        self.concurrency = settings.concurrency
        self.per_host = settings.per_host
        self.batch = settings.batch
        self.lease = settings.lease
        self.total_seconds = settings.total_seconds
        self.rand = rand
        concurrency = settings.concurrency
        limits = httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=30
        )
        # The transport is injectable for tests; in service it is always the guarded one.
        self.client = httpx.AsyncClient(
            transport=transport
            or guarded_transport(allow_private=settings.allow_private, limits=limits),
            trust_env=False,
            timeout=settings.timeout,
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent or product_user_agent()},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- one batch ------------------------------------------------------------------------

    async def step(self) -> int:
        """Deliver what is due now; returns how many deliveries were claimed."""
        now = self.clock()
        claimed = await self.db.write(claim, now=now, lease=self.lease, limit=self.batch)
        if not claimed:
            return 0
        heartbeat = asyncio.create_task(self._keep_leases(claimed[0].token))
        try:
            await self._deliver_batch(claimed, now)
        finally:
            heartbeat.cancel()
        return len(claimed)

    async def _deliver_batch(self, claimed: list[Claimed], now: datetime) -> None:
        memory = await self.db.read(load_memory, {c.host for c in claimed if c.host})
        outcomes = OutcomeLog(self.db, memory, now)
        ready = await self._resolve(claimed, outcomes, now)
        payloads, failures = await self.db.read(_sending, ready)
        auth = SignatureAuth(
            self.auth.key,
            memory=memory,
            default=self.auth.default,
            double_knock=self.auth.double_knock,
            clock=self.auth.clock,
        )
        batch = _Batch(failures, self.per_host)
        overall = asyncio.Semaphore(self.concurrency)

        async def deliver(item: Claimed) -> None:
            assert item.inbox is not None and item.host is not None
            async with batch.limit(item.host), overall:
                if batch.broken(item.host) and item.host not in batch.half_open:
                    outcomes.release(item)
                    return
                status, error, retry_after = await self._post(
                    item.inbox, payloads[item.activity_id], auth
                )
                outcome = classify(status)
                batch.answered(item.host, outcome is Outcome.RETRY)
            result = self._result(item, outcome, status, error, retry_after, now)
            outcomes.add(result, host_failed=outcome is Outcome.RETRY)
            await outcomes.maybe_flush()

        ticker = asyncio.create_task(self._flush_now_and_then(outcomes))
        try:
            await asyncio.gather(*(deliver(item) for item in ready))
        finally:
            ticker.cancel()
        await outcomes.flush()

    @staticmethod
    async def _flush_now_and_then(outcomes: OutcomeLog) -> None:
        # While the rest of the batch hangs on slow inboxes, what is finished gets recorded.
        while True:
            await asyncio.sleep(outcomes.flush_seconds)
            try:
                # Shielded: stopping the ticker when the batch ends must not cut a flush
                # off halfway; the final flush waits for this one (they share a lock).
                await asyncio.shield(outcomes.maybe_flush())
            except Exception:  # the final flush will try again (flush keeps what failed)
                log.exception("recording delivery outcomes failed")

    async def _keep_leases(self, token: str) -> None:
        """Extend our leases while the batch runs, so a slow batch is not claimed twice."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self.db.write(extend_leases, token, self.clock() + self.lease)
            except Exception:  # a missed renewal only risks a duplicate delivery
                log.exception("renewing delivery leases failed")

    async def _post(
        self, inbox: str, body: bytes, auth: SignatureAuth
    ) -> tuple[int | None, str | None, str | None]:
        outside_units(f"a delivery to {inbox}")
        try:
            async with asyncio.timeout(self.total_seconds):
                request = self.client.build_request(
                    "POST", inbox, content=body, headers={"Content-Type": AS2, "Accept": AS2}
                )
                response = await self.client.send(request, auth=auth, stream=True)
                await response.aclose()  # the answer's body is of no use to us
        except BlockedAddress as error:
            if _retryable_block(error):
                return None, f"{type(error).__name__}: {error}", None
            return 0, f"{type(error).__name__}: {error}", None  # 0: a permanent refusal
        except (httpx.HTTPError, TimeoutError, OSError) as error:
            # Some httpx timeouts carry no message; the class name says enough then.
            return None, f"{type(error).__name__}: {error}".rstrip(": "), None
        problem = None if response.is_success else f"HTTP {response.status_code}"
        return response.status_code, problem, response.headers.get("retry-after")

    def _result(
        self,
        item: Claimed,
        outcome: Outcome,
        status: int | None,
        error: str | None,
        retry_after: str | None,
        now: datetime,
    ) -> Result:
        if outcome is Outcome.DONE:
            return Result(item, DeliveryState.DONE, status)
        if outcome in (Outcome.DEAD, Outcome.GONE):
            return Result(item, DeliveryState.DEAD, status or None, error)
        when = next_attempt(
            failed_attempts=item.attempts + 1,
            created_at=item.retry_from,
            now=now,
            retry_after=parse_retry_after(retry_after, now),
            rand=self.rand,
        )
        if when is None:
            return Result(item, DeliveryState.DEAD, status, f"gave up after 72 h: {error}")
        return Result(item, DeliveryState.PENDING, status, error, when)

    async def _resolve(
        self, claimed: list[Claimed], outcomes: OutcomeLog, now: datetime
    ) -> list[Claimed]:
        """Find the inbox of deliveries published before their actor was cached."""
        ready: list[Claimed] = []
        for item in claimed:
            if item.inbox is not None:
                ready.append(item)
                continue
            assert item.recipient is not None
            found = await self.remote.actor(item.recipient) if self.remote is not None else None
            inbox = (found.shared_inbox or found.inbox) if found is not None else None
            if inbox is None:
                if await self.db.read(_gone, item.recipient):
                    outcomes.add(
                        Result(item, DeliveryState.DEAD, None, f"{item.recipient} is gone")
                    )
                else:
                    outcomes.add(
                        self._result(
                            item,
                            Outcome.RETRY,
                            None,
                            f"cannot find the inbox of {item.recipient}",
                            None,
                            now,
                        )
                    )
                continue
            host = origin_of(inbox)
            if await self.db.write(resolved, item, inbox, host):
                ready.append(
                    Claimed(
                        item.id,
                        item.activity_id,
                        inbox,
                        host,
                        item.recipient,
                        item.attempts,
                        item.retry_from,
                        item.token,
                    )
                )
            else:  # another delivery of this activity already goes to that inbox
                outcomes.add(Result(item, DeliveryState.DONE, None))
        return ready

    async def run(self, stop: asyncio.Event, idle: float = SAFETY_POLL) -> None:
        """Loop `step()` until `stop` is set. When nothing is due it sleeps until a commit
        queues deliveries (a wake-up), or `idle` seconds for retries and lost leases."""
        wake = self.db.wakeups.event(DELIVERIES_CHANNEL)
        await repeat("delivery worker", self.step, stop, idle=idle, wake=wake)


def _sending(session: Session, ready: list[Claimed]) -> tuple[dict[int, bytes], dict[str, int]]:
    """A read unit: the bodies a batch sends, and its hosts' failure counts."""
    payloads = bodies(session, (c.activity_id for c in ready))
    return payloads, host_failures(session, (c.host for c in ready if c.host))


def _gone(session: Session, recipient: str) -> bool:
    """A read unit: whether we know `recipient` deleted itself."""
    row = session.get(RemoteActorRow, recipient)
    return row is not None and row.gone_at is not None
