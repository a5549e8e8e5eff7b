"""Product pictures: what a peer names, our own copy of it, and how long we keep it.

A market's Product (or a calendar's entry) may carry an AS2 `image` (or `icon`): an
`Image` with a `url` (a string or a `Link` with `href`), a `mediaType` and its alt text
in `name` (else `summary`). We never send a shopper's browser to the peer's server for
it (the peer would learn who looks at what, and could change what we show): the picture
is fetched once by a background worker through the SSRF guard
(cart/catalog/image_fetch.py), checked, and served from our own origin at
`/images/<sha-256>` (cart/web/image_routes.py).

This module holds the parts that run inside units of work, all synchronous:
`note_image` (with the mirror's write, in the inbox worker's or a backfill's
transaction: it only records what to fetch), `stored_image` (the route's read) and
`purge_images` (the clean-up loop's retention rule: a picture no item on offer shows is
kept IMAGE_GRACE more, then deleted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cart.catalog.models import IRI, CatalogImage, CatalogImageFetch, CatalogItem
from store import wake

IMAGES_CHANNEL = "catalog-images"  # fired when a picture is waiting to be fetched
IMAGE_GRACE = timedelta(days=7)  # an unused picture stays this long (open pages, a restore)
MAX_ALT = 1000
# Types a browser shows as a picture and never runs: no SVG (it can carry script).
SERVABLE = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


@dataclass(frozen=True)
class ImageRef:
    """A picture as the peer names it."""

    url: str
    media_type: str | None = None  # declared; what we serve is decided by the bytes
    alt: str | None = None


def sniff(data: bytes) -> str | None:
    """The picture's type from its first bytes (the WHATWG MIME Sniffing standard's image
    type patterns, section 6.1), or None for anything we do not serve."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str):
        text = " ".join(value.split())
        return text[:limit] or None
    return None


def _url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > IRI:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def _media_type(value: Any) -> str | None:
    text = _text(value, 100)
    return text.split(";", 1)[0].strip().lower() if text else None


def _ref(value: Any) -> ImageRef | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        url = _url(value)
        return ImageRef(url) if url else None
    if not isinstance(value, Mapping):
        return None
    media = _media_type(value.get("mediaType"))
    alt = _text(value.get("name"), MAX_ALT) or _text(value.get("summary"), MAX_ALT)
    link = value.get("url", value.get("href"))
    if isinstance(link, list):
        link = link[0] if link else None
    if isinstance(link, Mapping):  # a Link: {"type": "Link", "href": ..., "mediaType": ...}
        media = _media_type(link.get("mediaType")) or media
        link = link.get("href")
    url = _url(link)
    return ImageRef(url, media, alt) if url else None


def image_of(node: Mapping[str, Any] | None) -> ImageRef | None:
    """The picture a peer's object names, read leniently from the raw object: its `image`,
    else its `icon`; None when it names none we could fetch (only http(s) URLs)."""
    if node is None:
        return None
    for key in ("image", "icon"):
        ref = _ref(node.get(key))
        if ref is not None:
            return ref
    return None


def note_image(session: Session, item_ap_id: str, ref: ImageRef | None, now: datetime) -> None:
    """In the mirror's write: remember the item's picture and ask for it to be fetched.

    A new URL clears the copy we show until the new one is fetched; the same URL again
    fetches nothing (a peer that changes a picture gives it a new URL). A declared type
    we never serve (SVG, say) is refused here, without a request.
    """
    item = session.get(CatalogItem, item_ap_id)
    if item is None:
        return
    job = session.get(CatalogImageFetch, item_ap_id)
    if ref is None:
        item.image_url = item.image_alt = item.image_digest = None
        if job is not None:
            session.delete(job)
        return
    item.image_alt = ref.alt
    if item.image_url == ref.url and job is not None:
        return
    item.image_url, item.image_digest = ref.url, None
    refused = None
    if ref.media_type is not None and ref.media_type not in SERVABLE:
        refused = f"refused: declared {ref.media_type[:60]}, not a type we serve"
    if job is None:
        job = CatalogImageFetch(item_ap_id=item_ap_id, url=ref.url, due_at=now, attempts=0)
        session.add(job)
    # A worker holding the old URL's lease loses it: its outcome is not written.
    job.url, job.due_at, job.attempts = ref.url, now, 0
    job.lease_token = job.lease_until = None
    job.finished_at, job.outcome = (now, refused) if refused else (None, None)
    if refused is None:
        wake(session, IMAGES_CHANNEL)


def stored_image(session: Session, digest: str) -> tuple[str, bytes] | None:
    """(media type, bytes) of our copy of a picture, for the route that serves it."""
    row = session.execute(
        select(CatalogImage.media_type, CatalogImage.data).where(CatalogImage.digest == digest)
    ).first()
    return (row[0], row[1]) if row is not None else None


def purge_images(session: Session, now: datetime, grace: timedelta = IMAGE_GRACE) -> int:
    """The retention rule: a picture that no item on offer shows is marked unused, and
    deleted `grace` later unless one shows it again; the withdrawn items that still named
    it forget it (a restore fetches it again). Returns how many were deleted."""
    shown = select(CatalogItem.image_digest).where(
        CatalogItem.image_digest.is_not(None), CatalogItem.withdrawn_at.is_(None)
    )
    session.execute(
        update(CatalogImage)
        .where(CatalogImage.unused_since.is_(None), CatalogImage.digest.not_in(shown))
        .values(unused_since=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CatalogImage)
        .where(CatalogImage.unused_since.is_not(None), CatalogImage.digest.in_(shown))
        .values(unused_since=None)
        .execution_options(synchronize_session=False)
    )
    doomed = select(CatalogImage.digest).where(CatalogImage.unused_since < now - grace)
    session.execute(
        delete(CatalogImageFetch)
        .where(
            CatalogImageFetch.item_ap_id.in_(
                select(CatalogItem.ap_id).where(CatalogItem.image_digest.in_(doomed))
            )
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CatalogItem)
        .where(CatalogItem.image_digest.in_(doomed))
        .values(image_digest=None, image_url=None)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        delete(CatalogImage)
        .where(CatalogImage.unused_since < now - grace)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
