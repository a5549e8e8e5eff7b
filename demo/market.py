"""The demo market: products on two shop pages, and the changes a visitor can make.

Every change (price, stock, withdraw, restore) is written together with its
announcement to the followers (the cart) in one transaction: an Update for a new price
or stock, a Delete when a product is withdrawn, a Create when it comes back. The admin
form (/admin) and the CLI (`python -m demo market set-price ID 4.20`) both call the
functions below, so a visitor can watch the cart's catalogue react.

The admin form has no login: the demo listens on loopback only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from demo.catalog import (
    announce,
    announce_delete,
    announce_sync,
    catalog_document,
    item_document,
    item_node,
    page_number,
    tombstone,
)
from demo.exceptions import InvalidChange, UnknownItem
from demo.handover import shop_fulfilment
from demo.images import MEDIA_TYPE, alt_text, product_png
from demo.models import DemoProduct
from demo.node import DemoNode, NodeConfig, Site
from demo.pages import amount_of, csrf_ok, csrf_token, minor_units, render, with_csrf_cookie
from demo.sales import register_sales_handlers
from inbox.registry import HandlerRegistry
from outbox.publish import Published
from store import utcnow
from vocab.model import MonetaryAmount, Page, Product

SHOPS = {"bakery": "The Bakery", "greengrocer": "The Greengrocer"}
MAX_PRICE = Decimal("10000")


@dataclass(frozen=True)
class Seed:
    id: str
    shop: str
    name: str
    summary: str
    price: str
    stock: int
    colour: str


SEEDS = (
    Seed(
        "sourdough",
        "bakery",
        "Sourdough loaf",
        "Slow-risen, baked this morning.",
        "3.50",
        12,
        "#b07a3c",
    ),
    Seed("rye", "bakery", "Dark rye bread", "Dense, with caraway.", "4.20", 8, "#6d4a2b"),
    Seed("croissant", "bakery", "Butter croissant", "Flaky and golden.", "1.60", 30, "#d19a2a"),
    Seed("cinnamon-bun", "bakery", "Cinnamon bun", "Cardamom and cinnamon.", "2.40", 20, "#9c5a24"),
    Seed(
        "apples",
        "greengrocer",
        "Cox apples (1 kg)",
        "From an orchard nearby.",
        "2.80",
        40,
        "#b8322a",
    ),
    Seed(
        "carrots",
        "greengrocer",
        "Carrots (1 kg)",
        "Unwashed, full of flavour.",
        "1.20",
        50,
        "#d9711c",
    ),
    Seed("kale", "greengrocer", "Curly kale", "A generous bunch.", "1.50", 25, "#2f7a36"),
    Seed("leeks", "greengrocer", "Leeks (3)", "Sweet winter leeks.", "1.90", 18, "#5f8f3a"),
)
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def shop_page(site: Site, shop: str) -> Page:
    url = site.iri(f"shops/{shop}")
    return Page(id=url, name=SHOPS.get(shop, shop), url=url, fulfilment=shop_fulfilment(url, shop))


def product_iri(site: Site, product_id: str) -> str:
    return site.iri(f"products/{product_id}")


def product_value(site: Site, row: DemoProduct) -> Product:
    return Product(
        id=product_iri(site, row.id),
        attributed_to=site.actor_id,
        name=row.name,
        summary=row.summary or None,
        url=shop_page(site, row.shop).url,
        page=shop_page(site, row.shop),
        price=MonetaryAmount(amount=amount_of(row.price_minor), currency=row.currency),
        available=True,
        stock=row.stock,
        published=row.published_at,
        updated=row.updated_at,
    )


def product_extras(site: Site, row: DemoProduct) -> dict[str, Any]:
    """AS2 terms beside the Product: its picture, with alt text in the Image's `name`."""
    picture = {
        "type": "Image",
        "mediaType": MEDIA_TYPE,
        "url": site.iri(f"images/{row.id}.png"),
        "name": alt_text(row.name, row.colour),
    }
    return {"image": picture}


async def seed_market(session: AsyncSession, site: Site, now: datetime) -> None:
    """Put the demo products in place on first start; later starts keep what changed."""
    if (await session.execute(select(DemoProduct.id).limit(1))).first() is not None:
        return
    for seed in SEEDS:
        assert _COLOUR.fullmatch(seed.colour)  # noqa: S101 - the picture is drawn from it
        session.add(
            DemoProduct(
                id=seed.id,
                shop=seed.shop,
                name=seed.name,
                summary=seed.summary,
                price_minor=minor_units(Decimal(seed.price)),
                currency="GBP",
                stock=seed.stock,
                colour=seed.colour,
                withdrawn=False,
            )
        )


async def products(session: AsyncSession, *, shop: str | None = None) -> list[DemoProduct]:
    query = select(DemoProduct).order_by(DemoProduct.shop, DemoProduct.name)
    if shop is not None:
        query = query.where(DemoProduct.shop == shop)
    return list((await session.execute(query)).scalars())


async def _product(session: AsyncSession, product_id: str) -> DemoProduct:
    row = await session.get(DemoProduct, product_id, with_for_update=True)
    if row is None:
        raise UnknownItem(product_id)
    return row


def parse_price(text: str) -> Decimal:
    try:
        amount = Decimal(text.strip().lstrip("£"))
    except InvalidOperation:
        raise InvalidChange(f"{text!r} is not a price; write it like 4.20") from None
    if not amount.is_finite() or amount <= 0 or amount >= MAX_PRICE:
        raise InvalidChange(f"a price must be more than 0 and less than {MAX_PRICE}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidChange("a price in GBP has at most two decimal places")
    return amount


async def set_price(
    session: AsyncSession, site: Site, product_id: str, amount: Decimal
) -> Published | None:
    """New price; announced as an Update unless the product is withdrawn (nothing to update)."""
    row = await _product(session, product_id)
    row.price_minor, row.updated_at = minor_units(amount), utcnow()
    if row.withdrawn:
        return None
    return await announce(
        session, site, "Update", product_value(site, row), product_extras(site, row)
    )


async def set_stock(
    session: AsyncSession, site: Site, product_id: str, stock: int
) -> Published | None:
    if stock < 0:
        raise InvalidChange("stock cannot be negative")
    row = await _product(session, product_id)
    row.stock, row.updated_at = stock, utcnow()
    if row.withdrawn:
        return None
    return await announce(
        session, site, "Update", product_value(site, row), product_extras(site, row)
    )


async def withdraw(session: AsyncSession, site: Site, product_id: str) -> Published | None:
    row = await _product(session, product_id)
    if row.withdrawn:
        return None
    row.withdrawn, row.updated_at = True, utcnow()
    return await announce_delete(session, site, product_iri(site, row.id))


async def restore(session: AsyncSession, site: Site, product_id: str) -> Published | None:
    row = await _product(session, product_id)
    if not row.withdrawn:
        return None
    row.withdrawn, row.updated_at = False, utcnow()
    return await announce(
        session, site, "Create", product_value(site, row), product_extras(site, row)
    )


# -- routes --------------------------------------------------------------------------------


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


async def catalog(request: Request) -> Response:
    site, page = _site(request), page_number(request)
    async with request.app.state.db.sessions() as session:
        rows = [row for row in await products(session) if not row.withdrawn]
    items = [item_node(product_value(site, row), product_extras(site, row)) for row in rows]
    return catalog_document(site, items, page)


async def product(request: Request) -> Response:
    site = _site(request)
    async with request.app.state.db.sessions() as session:
        row = await session.get(DemoProduct, request.path_params["id"])
    if row is None:
        raise HTTPException(404, "no such product")
    if row.withdrawn:
        return tombstone(product_iri(site, row.id), row.updated_at)
    return item_document(product_value(site, row), product_extras(site, row))


async def image(request: Request) -> Response:
    async with request.app.state.db.sessions() as session:
        row = await session.get(DemoProduct, request.path_params["id"])
    if row is None:
        raise HTTPException(404, "no such product")
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(product_png(row.colour), media_type=MEDIA_TYPE, headers=headers)


async def shops(request: Request) -> Response:
    shop = request.path_params.get("shop")
    if shop is not None and shop not in SHOPS:
        raise HTTPException(404, "no such shop")
    async with request.app.state.db.sessions() as session:
        rows = await products(session, shop=shop)
    names = [shop] if shop else list(SHOPS)
    sections = [(SHOPS[name], [row for row in rows if row.shop == name]) for name in names]
    return render("market.html", actor=request.app.state.actor, sections=sections)


async def admin(request: Request) -> Response:
    token = csrf_token(request)
    async with request.app.state.db.sessions() as session:
        rows = await products(session)
    response = render(
        "admin.html",
        actor=request.app.state.actor,
        rows=rows,
        shops=SHOPS,
        csrf=token,
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )
    return with_csrf_cookie(response, token)


async def admin_change(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        raise HTTPException(403, "the form has expired; reload the admin page and try again")
    action, product_id = str(form.get("action", "")), str(form.get("product", ""))
    site = _site(request)
    try:
        async with request.app.state.db.transaction() as session:
            if action == "price":
                await set_price(session, site, product_id, parse_price(str(form.get("price", ""))))
            elif action == "withdraw":
                await withdraw(session, site, product_id)
            elif action == "restore":
                await restore(session, site, product_id)
            else:
                raise InvalidChange(f"unknown action {action!r}")
    except (InvalidChange, UnknownItem) as error:
        return RedirectResponse("/admin?" + urlencode({"error": str(error)}), status_code=303)
    return RedirectResponse(
        "/admin?" + urlencode({"done": f"{action}: {product_id}"}), status_code=303
    )


def market_routes() -> list[BaseRoute]:
    return [
        Route("/", shops, methods=["GET"]),
        Route("/shops/{shop}", shops, methods=["GET"]),
        Route("/catalog", catalog, methods=["GET"]),
        Route("/products/{id}", product, methods=["GET"]),
        Route("/images/{id}.png", image, methods=["GET"]),
        Route("/admin", admin, methods=["GET"]),
        Route("/admin", admin_change, methods=["POST"]),
    ]


def announce_stock(session: Session, site: Site, rows: list[DemoProduct], now: datetime) -> None:
    """An Update of each product whose stock changed (a sale, a cancel, a refund)."""
    for row in rows:
        row.updated_at = now
        if not row.withdrawn:
            value = product_value(site, row)
            announce_sync(session, site, "Update", value, product_extras(site, row))


def register_market_handlers(registry: HandlerRegistry, node: DemoNode) -> None:
    """Orders: the market claims stock as the calendar claims seats (demo.sales)."""
    register_sales_handlers(registry, node, announce_stock)


def market_node(config: NodeConfig) -> DemoNode:
    return DemoNode(config, market_routes(), register_market_handlers, seed_market)
