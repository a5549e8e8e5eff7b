"""The image worker: fetches the pictures peers name, outside every unit of work.

A picture waiting to be fetched is a `catalog_image_fetches` row, written with the item
by the mirror (cart/catalog/images.py `note_image`). This worker claims due rows under a
lease in one short unit, then, with no database work open, GETs each picture through
the SSRF guard (actor/guard.py: only public addresses, on every hop of at most three
redirects, unless ALLOW_PRIVATE_ADDRESSES), and records the outcome in another short
unit, only while the lease is still its own.

What is stored: at most MAX_IMAGE_BYTES (declared and as read: a body that grows past
it is abandoned), and only PNG, JPEG, WebP or GIF as recognised by the first bytes,
whatever the server's Content-Type says. Anything else (SVG, HTML, a private address, a
404) is refused for good and stores nothing; a server that is down or slow is tried
again with a growing delay, MAX_ATTEMPTS times in all.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpcore
import httpx
from sqlalchemy.orm import Session

from actor.exceptions import BlockedAddress
from actor.guard import Resolver, guarded_transport, system_resolve
from cart.catalog.images import SERVABLE, sniff
from cart.catalog.models import CatalogImage, CatalogImageFetch, CatalogItem
from store import Clock, Database, utcnow
from store.held import outside_units
from store.lease import claim_statement, new_lease
from vocab.numbers import parse_natural

log = logging.getLogger("rose_cart.cart.catalog.image_fetch")
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
LEASE = timedelta(minutes=2)
BATCH = 4
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
TOTAL_SECONDS = 30.0
ACCEPT = ", ".join(sorted(SERVABLE))


class Refused(Exception):
    """The picture will not do, now or later: nothing is stored and it is not retried."""


class Unreachable(Exception):
    """The server could not give it now: tried again later."""


@dataclass(frozen=True)
class Job:
    item_ap_id: str
    url: str


def claim_fetches(session: Session, now: datetime, limit: int) -> tuple[str, list[Job]]:
    """Lease up to `limit` due pictures; (the lease token, what to fetch)."""
    lease = new_lease(now, LEASE)
    statement = claim_statement(
        CatalogImageFetch,
        lease,
        now=now,
        due=[CatalogImageFetch.finished_at.is_(None), CatalogImageFetch.due_at <= now],
        order_by=[CatalogImageFetch.due_at],
        limit=limit,
        returning=[CatalogImageFetch.item_ap_id, CatalogImageFetch.url],
        values={"attempts": CatalogImageFetch.attempts + 1},
    )
    return lease.token, [Job(item, url) for item, url in session.execute(statement).all()]


def _held(session: Session, job: Job, token: str) -> CatalogImageFetch | None:
    row = session.get(CatalogImageFetch, job.item_ap_id)
    if row is None or row.lease_token != token or row.url != job.url:
        return None  # the URL changed meanwhile, or another worker took the job over
    row.lease_token = row.lease_until = None
    return row


def record_stored(
    session: Session, job: Job, token: str, data: bytes, media_type: str, now: datetime
) -> str | None:
    """Keep the picture and show it on the item; its digest, or None if the lease is lost."""
    row = _held(session, job, token)
    if row is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    stored = session.get(CatalogImage, digest)
    if stored is None:
        session.add(
            CatalogImage(
                digest=digest, media_type=media_type, size=len(data), data=data, stored_at=now
            )
        )
    else:
        stored.unused_since = None
    item = session.get(CatalogItem, job.item_ap_id)
    if item is not None and item.image_url == job.url:
        item.image_digest = digest
    row.finished_at, row.outcome = now, "stored"
    return digest


def record_failure(
    session: Session, job: Job, token: str, reason: str, *, retry: bool, now: datetime
) -> None:
    row = _held(session, job, token)
    if row is None:
        return
    row.outcome = reason[:500]
    if retry and row.attempts < MAX_ATTEMPTS:
        row.due_at = now + min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, row.attempts - 1))
    else:
        row.finished_at = now


class ImageFetcher:
    """Fetches due pictures; built once per process, closed at stop."""

    def __init__(
        self,
        db: Database,
        *,
        allow_private: bool = False,
        user_agent: str | None = None,
        clock: Clock = utcnow,
        max_bytes: int = MAX_IMAGE_BYTES,
        resolve: Resolver = system_resolve,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.db, self.clock, self.max_bytes = db, clock, max_bytes
        transport = guarded_transport(
            allow_private=allow_private, resolve=resolve, network_backend=network_backend
        )
        # identity: a compressed body could grow past the cap in one chunk as it is decoded
        headers = {"Accept": ACCEPT, "Accept-Encoding": "identity"}
        if user_agent:
            headers["User-Agent"] = user_agent
        # trust_env off: a proxy from the environment would go round the guard.
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=TIMEOUT,
            trust_env=False,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers=headers,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def step(self) -> int:
        """Fetch up to BATCH due pictures; how many were taken (the loop goes on while > 0)."""
        token, jobs = await self.db.write(claim_fetches, self.clock(), BATCH)
        for job in jobs:
            try:
                data, media_type = await self.download(job.url)
            except Refused as error:
                log.info("picture refused", extra={"url": job.url, "detail": str(error)})
                await self.db.write(
                    record_failure, job, token, f"refused: {error}", retry=False, now=self.clock()
                )
            except Unreachable as error:
                log.info("picture not fetched", extra={"url": job.url, "detail": str(error)})
                await self.db.write(
                    record_failure, job, token, str(error), retry=True, now=self.clock()
                )
            else:
                await self.db.write(record_stored, job, token, data, media_type, self.clock())
        return len(jobs)

    async def download(self, url: str) -> tuple[bytes, str]:
        """The picture's bytes and type; Refused or Unreachable otherwise."""
        try:
            async with asyncio.timeout(TOTAL_SECONDS):
                return await self._get(url)
        except TimeoutError as error:
            raise Unreachable(f"took longer than {TOTAL_SECONDS:g} s") from error
        except BlockedAddress as error:
            raise Refused(str(error)) from error
        except (httpx.TooManyRedirects, httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise Refused(f"{type(error).__name__}: {error}") from error
        except httpx.HTTPError as error:
            raise Unreachable(f"{type(error).__name__}: {error}") from error

    async def _get(self, url: str) -> tuple[bytes, str]:
        outside_units(f"fetching the picture {url}")
        async with self._client.stream("GET", url) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise Unreachable(f"answered {status}")
            if status != 200:
                raise Refused(f"answered {status}")
            declared = parse_natural(response.headers.get("Content-Length"))
            if declared is not None and declared > self.max_bytes:
                raise Refused(f"declares {declared} bytes, more than {self.max_bytes}")
            data = bytearray()
            async for chunk in response.aiter_raw():  # as sent: never decompressed
                data += chunk
                if len(data) > self.max_bytes:
                    raise Refused(f"more than {self.max_bytes} bytes")
        media_type = sniff(bytes(data[:16]))
        if media_type is None:
            raise Refused("not a PNG, JPEG, WebP or GIF picture")
        return bytes(data), media_type
