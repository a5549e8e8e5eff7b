"""Pages named by a peer on another origin: their details come from the page itself.

A market's Product may reference a page it does not own (in the co-op, pages belong to
the blog service). The mirror keeps such a page nameless (cart/catalog/mirror.py,
`speaks_for_page`); this job, a background loop and never the inbox worker's
transaction, dereferences it at its own IRI with a signed, guarded GET (actor/fetch.py:
the document's id must be that IRI) and stores its name, url and `fulfilment` (the
ways it hands things over: cart.catalog.fulfilment) in a unit of work (store/units.py)
after the network I/O. A page that cannot be fetched is retried with a growing delay,
remembered in process memory (a cache of decisions: another process may try it too);
until then the shopper sees the page's IRI, never a peer's claim about it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actor.exceptions import FetchError
from actor.fetch import Fetched, Fetcher
from cart.catalog.fulfilment import encode
from cart.catalog.models import CatalogPage
from store import Clock, Database, utcnow
from vocab.exceptions import ValidationError
from vocab.pages import read_fulfilment

log = logging.getLogger("rose_cart.cart.catalog.page_details")
PAGES_CHANNEL = "catalog-pages"  # fired when a nameless page is stored (store/wakeups.py)
BATCH = 10
MAX_NAME = 500
FIRST_RETRY = 60.0
MAX_RETRY = 6 * 3600.0


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):  # a Link: {"type": "Link", "href": ...}
        value = value.get("href")
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def details_of(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """(name, url) of a fetched page document, read leniently; urls only http(s)."""
    name = _text(document.get("name"), MAX_NAME)
    url = _text(document.get("url"), 2048)
    if url is not None and not url.startswith(("https://", "http://")):
        url = None
    return name, url


def fulfilment_of(document: dict[str, Any]) -> str | None:
    """The page's `fulfilment` as its row keeps it (cart.catalog.fulfilment), or None
    when it says none or says it in a shape we cannot read (leniently, like the name)."""
    try:
        options = read_fulfilment(document.get("fulfilment"), "fulfilment")
    except ValidationError:
        return None
    return encode(options) if options is not None else None


class PageDetails:
    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        *,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` stamps what is stored; `monotonic` times the in-memory retries."""
        self.db, self.fetcher, self.clock, self.monotonic = db, fetcher, clock, monotonic
        self._retry: dict[str, tuple[float, float]] = {}  # page IRI -> (not before, delay)

    async def step(self) -> int:
        """Fetch the details of up to BATCH nameless pages; returns how many were named."""
        now = self.monotonic()
        waiting = await self.db.read(_nameless, BATCH * 5)
        due = [iri for iri in waiting if self._retry.get(iri, (0.0, 0.0))[0] <= now][:BATCH]
        named = 0
        for iri in due:  # no unit runs while we fetch
            name, url, fulfilment = await self._fetch(iri)
            if name is None:
                self._failed(iri)
                continue
            self._retry.pop(iri, None)
            await self.db.write(_name, iri, name, url, fulfilment, self.clock())
            named += 1
        return named

    async def _fetch(self, iri: str) -> tuple[str | None, str | None, str | None]:
        try:
            result = await self.fetcher.fetch(iri)
        except FetchError as error:
            log.info("page %s could not be fetched: %s", iri, error)
            return None, None, None
        if not isinstance(result, Fetched):
            return None, None, None
        return (*details_of(result.document), fulfilment_of(result.document))

    def _failed(self, iri: str) -> None:
        _, delay = self._retry.get(iri, (0.0, FIRST_RETRY / 2))
        delay = min(MAX_RETRY, delay * 2)
        self._retry[iri] = (self.monotonic() + delay, delay)
        if len(self._retry) > 10_000:
            self._retry.pop(next(iter(self._retry)))


def _nameless(session: Session, limit: int) -> list[str]:
    """A read unit: pages still without a name."""
    query = select(CatalogPage.ap_id).where(CatalogPage.name.is_(None)).limit(limit)
    return list(session.execute(query).scalars())


def _name(
    session: Session,
    iri: str,
    name: str,
    url: str | None,
    fulfilment: str | None,
    now: datetime,
) -> None:
    """A unit: store what the page's own document says of it."""
    session.execute(
        update(CatalogPage)
        .where(CatalogPage.ap_id == iri)
        .values(name=name, url=url, fulfilment=fulfilment, updated_at=now)
    )
