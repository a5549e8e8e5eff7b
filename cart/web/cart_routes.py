"""Entry pages, the cart overview, page carts and line forms (catalogue: catalogue_routes)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from cart.basket.carts import CartOwner
from cart.basket.lines import (
    accept_current_price_sync,
    add_line_sync,
    remove_line_sync,
    set_quantity_sync,
)
from cart.basket.reading import view_cart_with_pages_sync
from cart.basket.totals import NO_PAGE_KEY, CartView, PageCart
from cart.catalog.fulfilment import DefaultFulfilment, Option
from cart.catalog.mirror import get_page_by_key_sync
from cart.catalog.models import ENTRY
from cart.catalog.rows import item_by_key_sync
from cart.exceptions import InvalidQuantity, ItemNotFound, NotFound
from cart.orders.handover import offers_on
from cart.web.catalogue_routes import catalogue
from cart.web.paths import row_id
from cart.web.shop import owner_of, with_badge
from cart.web.visit import (
    Page,
    ShopperVisit,
    redirect,
    safe_next,
    unit_form,
    unit_page,
)
from vocab.numbers import parse_natural


def _quantity(form: FormData) -> int:
    raw = form.get("quantity")
    quantity = parse_natural(raw.strip(), max_digits=6) if isinstance(raw, str) else None
    if quantity is None:
        raise InvalidQuantity("Please enter a whole number for the quantity, like 2.")
    return quantity


def _back(form: FormData) -> str:
    return safe_next(form.get("next"), "/cart")


@unit_page
async def entry(visit: ShopperVisit) -> Page:
    key = visit.request.path_params["key"]
    item, count = await visit.read(with_badge, visit.shopper, item_by_key_sync, key, visit.now)
    if item is None or item.kind != ENTRY or item.withdrawn:
        raise NotFound("We could not find that event. It may have been removed by its venue.")
    context = {"item": item, "next_path": f"/entries/{item.key}"}
    return Page("entry.html", context, title=item.name, item_count=count)


@unit_page
async def product(visit: ShopperVisit) -> Page:
    """A market product's own page: its description from the market, price and stock."""
    key = visit.request.path_params["key"]
    item, count = await visit.read(with_badge, visit.shopper, item_by_key_sync, key, visit.now)
    if item is None or item.is_entry or item.withdrawn:
        raise NotFound("We could not find that product. It may have been withdrawn by its shop.")
    context = {"item": item, "next_path": f"/products/{item.key}"}
    return Page("product.html", context, title=item.name, item_count=count)


def _cart_unit(
    session: Session, owner: CartOwner, now: datetime, default: DefaultFulfilment
) -> tuple[CartView, dict[str, tuple[Option, ...]]]:
    """A unit: the cart and how each of its pages hands over (the checkout forms), in one
    statement."""
    cart, said = view_cart_with_pages_sync(session, owner, now=now)
    return cart, offers_on(cart.pages, said, default, now)


@unit_page
async def cart_overview(visit: ShopperVisit) -> Page:
    cart, handover = await visit.read(
        _cart_unit, owner_of(visit.shopper), visit.now, visit.config.fulfilment_default
    )
    return Page(
        "cart.html",
        {"cart": cart, "next_path": "/cart", "handover": handover},
        title="Your cart",
        item_count=cart.item_count,
    )


def _page_cart_unit(
    session: Session, owner: CartOwner, key: str, now: datetime, default: DefaultFulfilment
) -> tuple[int, PageCart, dict[str, tuple[Option, ...]]]:
    """A unit: the badge, what the cart holds from one page, and its hand-over options."""
    cart, said = view_cart_with_pages_sync(session, owner, now=now)
    held = cart.page(key)
    if held is None:
        known = get_page_by_key_sync(session, key) if key != NO_PAGE_KEY else None
        if key != NO_PAGE_KEY and known is None:
            raise NotFound("We do not know that shop or venue.")
        held = PageCart(key=key, page=known, lines=(), subtotals=())
    return cart.item_count, held, offers_on([held], said, default, now)


@unit_page
async def page_cart(visit: ShopperVisit) -> Page:
    key = visit.request.path_params["page"]
    count, held, handover = await visit.read(
        _page_cart_unit, owner_of(visit.shopper), key, visit.now, visit.config.fulfilment_default
    )
    path = f"/cart/page/{key}"
    return Page(
        "cart_page.html",
        {"page": held, "next_path": path, "handover": handover},
        title=f"Your cart: {held.name}",
        item_count=count,
    )


@unit_form
async def add_to_cart(visit: ShopperVisit, form: FormData) -> Response:
    item_id = form.get("item")
    if not isinstance(item_id, str) or not item_id:
        raise ItemNotFound()
    quantity = _quantity(form)
    change = await visit.write(
        add_line_sync, owner_of(visit.shopper), item_id, quantity, now=visit.now
    )
    if change.notice:
        visit.flash.append(change.notice)
    else:
        name = change.item_name or "It"
        visit.flash.append(f"Added to your cart: {name} (you now have {change.quantity}).")
    back = _back(form)
    if change.item_key is not None and back.partition("?")[0] == "/" and "#" not in back:
        # Back to the item on the catalogue page it was added from (the front page, a
        # shelf, a search), not the top: the browser scrolls to it and focuses it (it is
        # focusable, tabindex=-1), so keyboard navigation goes on from there; the notice
        # (role=status, aria-live) says what changed.
        back = f"{back}#item-{change.item_key}"
    return redirect(visit, back)


@unit_form
async def change_quantity(visit: ShopperVisit, form: FormData) -> Response:
    line_id = visit.request.path_params["line_id"]
    change = await visit.write(
        set_quantity_sync, owner_of(visit.shopper), line_id, _quantity(form), now=visit.now
    )
    visit.flash.append(
        change.notice or ("Quantity updated." if change.quantity else "Removed from your cart.")
    )
    return redirect(visit, _back(form))


@unit_form
async def accept_price(visit: ShopperVisit, form: FormData) -> Response:
    line_id = visit.request.path_params["line_id"]
    await visit.write(accept_current_price_sync, owner_of(visit.shopper), line_id, now=visit.now)
    visit.flash.append("The new price is accepted.")
    return redirect(visit, _back(form))


@unit_form
async def remove(visit: ShopperVisit, form: FormData) -> Response:
    line_id = visit.request.path_params["line_id"]
    await visit.write(remove_line_sync, owner_of(visit.shopper), line_id)
    visit.flash.append("Removed from your cart.")
    return redirect(visit, _back(form))


FAVICON = Path(__file__).resolve().parent / "static" / "favicon.svg"


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the page links; answer with our icon."""
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


def shop_routes() -> list[Route]:
    return [
        Route("/", catalogue, methods=["GET"]),
        Route("/entries/{key}", entry, methods=["GET"]),
        Route("/products/{key}", product, methods=["GET"]),
        Route("/cart", cart_overview, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/cart/lines", add_to_cart, methods=["POST"]),
        Route(f"/cart/lines/{row_id('line_id')}/quantity", change_quantity, methods=["POST"]),
        Route(f"/cart/lines/{row_id('line_id')}/accept-price", accept_price, methods=["POST"]),
        Route(f"/cart/lines/{row_id('line_id')}/remove", remove, methods=["POST"]),
        Route("/cart/page/{page}", page_cart, methods=["GET"]),
    ]
