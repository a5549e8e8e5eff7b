"""Product pictures over real HTTP on loopback: a market serves them, the cart's image
worker fetches them through the SSRF guard, and shoppers get them from the cart's own
origin with their alt text; what is too large, not a raster picture, or on a private
address is refused and nothing of it is stored."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from actor.icon import disc, encode_png
from cart.catalog.image_fetch import MAX_IMAGE_BYTES, ImageFetcher
from cart.catalog.images import IMAGE_GRACE, ImageRef, purge_images
from cart.catalog.mirror import upsert_object
from cart.catalog.models import CatalogImage, CatalogImageFetch, CatalogItem
from service.app import create_app
from service.settings import Settings
from store import Database
from tests.support.clock import Clock
from tests.support.factories import NOW, product
from tests.support.loopback import serving

LOAF = encode_png(8, 8, disc(8, (0xB0, 0x7A, 0x3C), (0xFF, 0xFF, 0xFF)))
RYE = encode_png(8, 8, disc(8, (0x6D, 0x4A, 0x2B), (0xFF, 0xFF, 0xFF)))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
ALT = "A round sourdough loaf on a board"


@dataclass
class Market:
    """A picture server on loopback that counts what it was asked for."""

    origin: str = ""
    asked: list[str] = field(default_factory=list)
    failures_left: int = 0

    def url(self, path: str) -> str:
        return f"{self.origin}/{path}"


def market_app(market: Market) -> Starlette:
    async def picture(request: Request) -> Response:
        name = request.path_params["name"]
        market.asked.append(name)
        if name == "flaky.png" and market.failures_left > 0:
            market.failures_left -= 1
            return Response("busy", status_code=503)
        if name in ("loaf.png", "flaky.png"):
            return Response(LOAF, media_type="image/png")
        if name == "rye.png":
            return Response(RYE, media_type="image/png")
        if name == "declared-big.png":  # says so before sending a byte more than the cap
            return Response(LOAF + b"\0" * MAX_IMAGE_BYTES, media_type="image/png")
        if name == "endless.png":  # says nothing, and does not stop

            async def body() -> AsyncIterator[bytes]:
                yield LOAF
                for _ in range(MAX_IMAGE_BYTES // 65536 + 2):
                    yield b"\0" * 65536

            return StreamingResponse(body(), media_type="image/png")
        if name == "drawing.png":  # an SVG that calls itself a PNG
            return Response(SVG, media_type="image/png")
        if name == "moved.png":
            return Response(status_code=302, headers={"Location": "/loaf.png"})
        return Response("no such picture", status_code=404)

    return Starlette(routes=[Route("/{name}", picture)])


@pytest.fixture
async def market() -> AsyncIterator[Market]:
    market = Market()
    async with serving(market_app(market), lifespan="off") as origin:
        market.origin = origin
        yield market


@pytest.fixture
async def cart(settings: Settings) -> AsyncIterator[tuple[Starlette, str]]:
    app = create_app(settings)
    async with serving(app) as origin:
        yield app, origin


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


async def offer(db: Database, number: int, ref: ImageRef | None, *, name: str) -> str:
    obj = product(number, name=name)
    async with db.transaction() as session:
        await upsert_object(session, obj, sender=obj.attributed_to, version=NOW, now=NOW, image=ref)
    return obj.id


async def fetch_all(fetcher: ImageFetcher) -> None:
    while await fetcher.step():
        pass


async def count(db: Database, model: type) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def job_outcome(db: Database, item: str) -> str | None:
    async with db.transaction() as session:
        job = await session.get(CatalogImageFetch, item)
        return job.outcome if job is not None else None


def pictures(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<img[^>]*src="(/images/[0-9a-f]{64})"[^>]*alt="([^"]*)"', html)


FetcherFor = Callable[..., ImageFetcher]


@pytest.fixture
async def fetcher_for(cart: tuple[Starlette, str], clock: Clock) -> AsyncIterator[FetcherFor]:
    made: list[ImageFetcher] = []

    def make(*, allow_private: bool = True) -> ImageFetcher:
        fetcher = ImageFetcher(cart[0].state.db, allow_private=allow_private, clock=clock)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        await fetcher.aclose()


async def test_a_markets_picture_is_served_from_our_origin_with_its_alt_text(
    cart: tuple[Starlette, str], market: Market, fetcher_for: FetcherFor, clock: Clock
) -> None:
    app, origin = cart
    db: Database = app.state.db
    ref = ImageRef(market.url("moved.png"), "image/png", ALT)
    await offer(db, 42, ref, name="Sourdough loaf")
    async with httpx.AsyncClient(base_url=origin) as shopper:
        assert pictures((await shopper.get("/")).text) == []  # not fetched yet: none shown
        fetcher = fetcher_for()
        await fetch_all(fetcher)
        catalogue = (await shopper.get("/")).text
        ((src, alt),) = pictures(catalogue)
        assert alt == ALT and market.origin not in catalogue
        key = catalogue.split('<a href="/products/')[1].split('"')[0]
        assert pictures((await shopper.get(f"/products/{key}")).text) == [(src, ALT)]
        served = await shopper.get(src)
        assert served.status_code == 200 and served.content == LOAF
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
        again = await shopper.get(src, headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304
        assert (await shopper.get("/images/" + "0" * 64)).status_code == 404
        assert (await shopper.get("/images/..%2Fsecret")).status_code == 404
    assert market.asked == ["moved.png", "loaf.png"]  # fetched once, redirect followed


@pytest.mark.parametrize(
    ("name", "declared", "why"),
    [
        ("declared-big.png", "image/png", "declares"),
        ("endless.png", "image/png", "more than"),
        ("drawing.png", "image/png", "not a PNG, JPEG, WebP or GIF"),
        ("drawing.svg", "image/svg+xml", "declared image/svg+xml"),
        ("gone.png", None, "answered 404"),
    ],
)
async def test_what_will_not_do_is_refused_and_nothing_is_stored(
    cart: tuple[Starlette, str],
    market: Market,
    fetcher_for: FetcherFor,
    name: str,
    declared: str | None,
    why: str,
) -> None:
    app, origin = cart
    db: Database = app.state.db
    item = await offer(db, 42, ImageRef(market.url(name), declared, ALT), name="Sourdough loaf")
    fetcher = fetcher_for()
    await fetch_all(fetcher)
    outcome = await job_outcome(db, item)
    assert outcome is not None and outcome.startswith("refused") and why in outcome, outcome
    assert await count(db, CatalogImage) == 0
    async with httpx.AsyncClient(base_url=origin) as shopper:
        assert pictures((await shopper.get("/")).text) == []
    if declared == "image/svg+xml":
        assert market.asked == []  # refused on its word alone: never requested


async def test_a_picture_on_a_private_address_is_refused_without_the_setting(
    cart: tuple[Starlette, str], market: Market, fetcher_for: FetcherFor
) -> None:
    db: Database = cart[0].state.db
    item = await offer(db, 42, ImageRef(market.url("loaf.png"), "image/png", ALT), name="Loaf")
    fetcher = fetcher_for(allow_private=False)
    await fetch_all(fetcher)
    outcome = await job_outcome(db, item)
    assert outcome is not None and outcome.startswith("refused"), outcome
    assert market.asked == [] and await count(db, CatalogImage) == 0


async def test_a_server_that_is_busy_is_asked_again_later(
    cart: tuple[Starlette, str], market: Market, fetcher_for: FetcherFor, clock: Clock
) -> None:
    db: Database = cart[0].state.db
    market.failures_left = 1
    item = await offer(db, 42, ImageRef(market.url("flaky.png"), None, None), name="Loaf")
    fetcher = fetcher_for()
    await fetch_all(fetcher)
    assert await job_outcome(db, item) == "answered 503" and await count(db, CatalogImage) == 0
    await fetch_all(fetcher)
    assert market.asked == ["flaky.png"]  # not before its time
    clock.advance(timedelta(minutes=2))
    await fetch_all(fetcher)
    assert await job_outcome(db, item) == "stored" and await count(db, CatalogImage) == 1


async def test_a_changed_picture_replaces_the_old_which_goes_after_the_grace(
    cart: tuple[Starlette, str], market: Market, fetcher_for: FetcherFor, clock: Clock
) -> None:
    db: Database = cart[0].state.db
    fetcher = fetcher_for()
    await offer(db, 42, ImageRef(market.url("loaf.png"), None, ALT), name="Loaf")
    await fetch_all(fetcher)
    await offer(db, 42, ImageRef(market.url("rye.png"), None, "Dark rye"), name="Loaf")
    await fetch_all(fetcher)
    async with db.transaction() as session:
        item = (await session.execute(select(CatalogItem))).scalar_one()
        assert item.image_alt == "Dark rye"
        shown = item.image_digest
        assert await session.run_sync(purge_images, clock()) == 0  # marked unused only
    async with db.transaction() as session:
        removed = await session.run_sync(purge_images, clock() + IMAGE_GRACE + timedelta(1))
        kept = list((await session.execute(select(CatalogImage.digest))).scalars())
    assert removed == 1 and kept == [shown]
