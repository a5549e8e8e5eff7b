"""The demo market with a real cart: follow, catalogue backfill, and changes the cart sees."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx

import demo
from cart.catalog.mirror import get_item, list_catalog
from cart.money import Money
from outbox.models import Follow, Follower
from tests.demo.conftest import Coop


async def _item(coop: Coop, path: str):  # type: ignore[no-untyped-def]
    async with coop.cart_db.transaction() as session:
        return await get_item(session, f"{coop.urls['market']}{path}", datetime.now(UTC))


async def test_given_the_demo_co_op_when_the_cart_follows_then_both_accept_and_the_mirror_fills(
    followed: Coop,
) -> None:
    coop = followed
    async with coop.cart_db.transaction() as session:
        for peer in ("market", "calendar"):
            follow = await session.get(Follow, f"{coop.urls[peer]}/actor")
            assert follow is not None and follow.state == "accepted", peer
        sections = await list_catalog(session, datetime.now(UTC))
    async with coop.market.db.transaction() as session:
        follower = await session.get(Follower, f"{coop.urls['cart']}/actor")
        assert follower is not None and follower.state == "accepted"

    shelves = {section.page.name: section.items for section in sections if section.page}
    assert sorted(shelves) == ["The Bakery", "The Greengrocer", "The Old School Hall"]
    assert len(shelves["The Bakery"]) == 4 and len(shelves["The Greengrocer"]) == 4, (
        "both catalogue pages were read"
    )
    loaf = next(item for item in shelves["The Bakery"] if item.name == "Sourdough loaf")
    assert loaf.price == Money(Decimal("3.50"), "GBP") and loaf.stock == 12
    pottery = next(item for item in shelves["The Old School Hall"] if item.name == "Pottery taster")
    assert pottery.kind == "entry" and pottery.stock == 2 and pottery.start_time is not None


async def test_given_a_followed_market_when_the_admin_form_changes_a_price_then_the_cart_shows_it(
    followed: Coop,
) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["market"]) as browser:
        page = await browser.get("/admin")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token is not None
        forged = await browser.post(
            "/admin",
            data={"csrf": "guess", "action": "price", "product": "sourdough", "price": "9.99"},
        )
        assert forged.status_code == 403
        changed = await browser.post(
            "/admin",
            data={
                "csrf": token.group(1),
                "action": "price",
                "product": "sourdough",
                "price": "4.20",
            },
        )
        assert changed.status_code == 303 and "done" in changed.headers["location"]
        refused = await browser.post(
            "/admin",
            data={"csrf": token.group(1), "action": "price", "product": "rye", "price": "-1"},
        )
        assert "error" in refused.headers["location"]

    await coop.settle()
    loaf = await _item(coop, "/products/sourdough")
    rye = await _item(coop, "/products/rye")
    assert loaf is not None and loaf.price == Money(Decimal("4.20"), "GBP")
    assert rye is not None and rye.price == Money(Decimal("4.20"), "GBP"), (
        "a refused change changes nothing"
    )


async def test_given_a_followed_market_when_the_cli_withdraws_and_restores_then_the_cart_follows(
    followed: Coop,
) -> None:
    coop = followed

    async def cli(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "demo",
            "market",
            "--data-dir",
            str(coop.market.config.data_dir),
            *args,
            cwd=Path(demo.__file__).parent.parent,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()
        return output.decode()

    assert "withdrawn" in await cli("withdraw", "kale")
    await coop.settle()
    kale = await _item(coop, "/products/kale")
    assert kale is not None and kale.unavailable_reason == "No longer offered."
    async with httpx.AsyncClient() as client:
        gone = await client.get(f"{coop.urls['market']}/products/kale")
    assert gone.status_code == 410

    assert "restored" in await cli("restore", "kale")
    await coop.settle()
    kale = await _item(coop, "/products/kale")
    assert kale is not None and kale.unavailable_reason is None
