"""HTML snippets other co-op sites embed: the cart badge and the account link.

They are fetched cross-origin with credentials, so they answer CORS for the origins of
our configured peers only (never `*`, which browsers refuse with credentials anyway),
and vary on Origin and Cookie. They are private (per shopper) and revalidated each
time: the ETag lets an unchanged badge cost a 304 and no body. A fragment never sets
a cookie: an embedding page should not start sessions behind the shopper's back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cart.identity.accounts import AccountView, get_account
from cart.identity.sessions import COOKIE_NAME, ShopperSession, signed_in_sync
from cart.web.config import WebConfig, web_config
from cart.web.shop import item_count_sync
from store import Database

CACHE_CONTROL = "private, no-cache"
VARY = "Origin, Cookie"


@dataclass(frozen=True)
class _FragmentVisit:
    item_count: int
    account: AccountView | None


def _cors(request: Request, config: WebConfig) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or origin.lower() not in config.embedding_origins:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


async def _visit(request: Request, config: WebConfig) -> _FragmentVisit:
    """No database for a missing or bad cookie (a fresh cart is empty); else one read."""
    shopper = config.cookies.decode(request.cookies.get(COOKIE_NAME))
    if shopper is None:
        return _FragmentVisit(0, None)
    db: Database = request.app.state.db
    return await db.read(_fragment_unit, shopper, config.clock())


def _fragment_unit(session: Session, shopper: ShopperSession, now: datetime) -> _FragmentVisit:
    """A unit: the badge and the account link of the shopper a valid cookie names."""
    if shopper.account_id is None:
        return _FragmentVisit(item_count_sync(session, shopper), None)
    checked = signed_in_sync(session, shopper, now)  # revoked or expired: a fresh session
    account = get_account(session, checked.account_id) if checked.account_id else None
    if account is None:
        return _FragmentVisit(0, None)
    return _FragmentVisit(item_count_sync(session, checked), account)


async def _fragment(request: Request, template: str) -> Response:
    config = web_config(request)
    visit = await _visit(request, config)
    body = (
        config.templates.get_template(template)
        .render(
            visit=visit,
            account=visit.account,
            base_url=config.base_url,
            cart_href=f"{config.base_url}/cart",
        )
        .strip()
        .encode()
    )
    etag = _etag(body)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": VARY, **_cors(request, config)}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


async def cart_mini(request: Request) -> Response:
    return await _fragment(request, "fragment_cart_mini.html")


async def account_nav_item(request: Request) -> Response:
    return await _fragment(request, "fragment_account_nav_item.html")


async def preflight(request: Request) -> Response:
    config = web_config(request)
    headers = {"Vary": VARY, **_cors(request, config)}
    if headers.get("Access-Control-Allow-Origin"):
        headers["Access-Control-Allow-Methods"] = "GET"
        headers["Access-Control-Allow-Headers"] = "If-None-Match"
        headers["Access-Control-Max-Age"] = "600"
    return Response(status_code=204, headers=headers)


def fragment_routes() -> list[Route]:
    return [
        Route("/fragments/cart-mini", cart_mini, methods=["GET"]),
        Route("/fragments/cart-mini", preflight, methods=["OPTIONS"]),
        Route("/fragments/account-nav-item", account_nav_item, methods=["GET"]),
        Route("/fragments/account-nav-item", preflight, methods=["OPTIONS"]),
    ]
