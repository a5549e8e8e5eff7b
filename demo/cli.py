"""`python -m demo market|calendar`: run one demo actor, or change the market's products.

    python -m demo market --port 8001 --data-dir data/market --cart http://127.0.0.1:8000/actor
    python -m demo calendar --port 8002 --data-dir data/calendar --cart http://127.0.0.1:8000/actor
    python -m demo market set-price sourdough 4.20
    python -m demo market withdraw sourdough     (and: restore, set-stock)

The change commands write to the market's database and queue the announcement; the
running market's delivery worker sends it to the cart within a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from demo import market as market_module
from demo.calendar import calendar_node
from demo.exceptions import DemoError
from demo.market import market_node, parse_price
from demo.node import DemoNode, NodeConfig, Site, read_base_url
from store import Database, sqlite_url_for

CART = "http://127.0.0.1:8000/actor"
Change = Callable[[AsyncSession, Site], Awaitable[Any]]


def _serve(
    build: Callable[[NodeConfig], DemoNode], config: NodeConfig, host: str, port: int
) -> None:
    node = build(config)
    click.echo(f"{config.name}: {config.base_url}  (actor {config.base_url}/actor)")
    uvicorn.run(node.app(), host=host, port=port, log_level="warning", access_log=False)


def _config(
    kind: str, host: str, port: int, data_dir: Path, cart: str, base_url: str | None
) -> NodeConfig:
    names = {
        "market": ("market", "The Co-op Market", "Bread and vegetables from the co-op's shops."),
        "calendar": (
            "calendar",
            "The Co-op Calendar",
            "Classes and events at the Old School Hall.",
        ),
    }
    username, name, summary = names[kind]
    return NodeConfig(
        base_url=base_url or f"http://{host}:{port}",
        username=username,
        name=name,
        summary=summary,
        data_dir=data_dir,
        cart=cart or None,
    )


def _options(default_port: int, default_dir: str) -> Callable[[Any], Any]:
    def decorate(function: Any) -> Any:
        for option in reversed(
            [
                click.option("--host", default="127.0.0.1", show_default=True),
                click.option("--port", default=default_port, show_default=True, type=int),
                click.option(
                    "--data-dir",
                    default=default_dir,
                    show_default=True,
                    type=click.Path(path_type=Path),
                ),
                click.option(
                    "--cart",
                    default=CART,
                    show_default=True,
                    help="The cart actor whose orders we answer.",
                ),
                click.option(
                    "--base-url", default=None, help="Public origin; default http://HOST:PORT."
                ),
            ]
        ):
            function = option(function)
        return function

    return decorate


@click.group()
def main() -> None:
    """The demo co-op's market and calendar actors."""


@main.group(invoke_without_command=True)
@_options(8001, "data/market")
@click.pass_context
def market(
    ctx: click.Context, host: str, port: int, data_dir: Path, cart: str, base_url: str | None
) -> None:
    """Run the market (or change its products with a subcommand)."""
    ctx.obj = data_dir
    if ctx.invoked_subcommand is None:
        _serve(market_node, _config("market", host, port, data_dir, cart, base_url), host, port)


@main.command()
@_options(8002, "data/calendar")
def calendar(host: str, port: int, data_dir: Path, cart: str, base_url: str | None) -> None:
    """Run the calendar."""
    _serve(calendar_node, _config("calendar", host, port, data_dir, cart, base_url), host, port)


async def _apply(data_dir: Path, change: Change) -> Any:
    db = Database(sqlite_url_for(data_dir))
    try:
        site = Site(read_base_url(data_dir))
        async with db.transaction() as session:
            return await change(session, site)
    finally:
        await db.dispose()


def _run(data_dir: Path, change: Change, done: str) -> None:
    try:
        published = asyncio.run(_apply(data_dir, change))
    except (DemoError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(done if published is not None else "nothing to change")


@market.command("set-price")
@click.argument("product_id")
@click.argument("price")
@click.pass_obj
def set_price(data_dir: Path, product_id: str, price: str) -> None:
    """Set PRODUCT_ID's price (GBP, e.g. 4.20) and tell the cart."""
    try:
        amount = parse_price(price)
    except DemoError as error:
        raise click.ClickException(str(error)) from error
    _run(
        data_dir,
        lambda s, site: market_module.set_price(s, site, product_id, amount),
        f"{product_id} now costs £{amount}",
    )


@market.command("set-stock")
@click.argument("product_id")
@click.argument("stock", type=int)
@click.pass_obj
def set_stock(data_dir: Path, product_id: str, stock: int) -> None:
    """Set how many of PRODUCT_ID are left."""
    _run(
        data_dir,
        lambda s, site: market_module.set_stock(s, site, product_id, stock),
        f"{product_id}: {stock} left",
    )


@market.command()
@click.argument("product_id")
@click.pass_obj
def withdraw(data_dir: Path, product_id: str) -> None:
    """Take PRODUCT_ID off sale (the cart is told with a Delete)."""
    _run(
        data_dir,
        lambda s, site: market_module.withdraw(s, site, product_id),
        f"{product_id} withdrawn",
    )


@market.command()
@click.argument("product_id")
@click.pass_obj
def restore(data_dir: Path, product_id: str) -> None:
    """Put a withdrawn PRODUCT_ID back on sale."""
    _run(
        data_dir,
        lambda s, site: market_module.restore(s, site, product_id),
        f"{product_id} restored",
    )


@main.command("run")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True
)
@click.option("--cart-port", default=8000, show_default=True)
@click.option("--market-port", default=8001, show_default=True)
@click.option("--calendar-port", default=8002, show_default=True)
def run_all(data_dir: Path, cart_port: int, market_port: int, calendar_port: int) -> None:
    """Start the cart, the market and the calendar together; Ctrl-C stops all three."""
    from demo.launcher import run

    run(data_dir, cart_port, market_port, calendar_port)
