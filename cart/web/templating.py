"""The Jinja environment of the shopper's pages, and how times and money read in them.

Autoescaping is on for every template, whatever its name: product names, page names
and places come from peers and are untrusted text. Nothing here marks text safe.

Times are stored as UTC instants and shown in a zone with its abbreviation ("19:00
BST"): the venue's own zone when its calendar published one (`rose:timeZone`), else
the shop's (`ROSE_CART_TIME_ZONE`). Day and month names come from Babel's locale data.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_environment

from cart.locale import local_time, spoken_date, spoken_datetime, spoken_time, spoken_window
from cart.orders.handover import handover_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_ZONE = "Europe/London"


def format_money(value: object) -> str:
    formatter = getattr(value, "format", None)
    return formatter() if callable(formatter) else str(value)


def _zone(env: Environment, zone: str | None) -> str:
    return zone or str(env.globals.get("time_zone") or DEFAULT_ZONE)


@pass_environment
def format_when(env: Environment, value: datetime | date | None, zone: str | None = None) -> str:
    """ "Saturday 18 July 2026, 19:00 BST"; a bare date as "Saturday 18 July 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return spoken_datetime(value, _zone(env, zone))
    return spoken_date(value)


@pass_environment
def format_date(env: Environment, value: datetime | date | None, zone: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return spoken_date(local_time(value, _zone(env, zone)).date())
    return spoken_date(value)


@pass_environment
def format_time(env: Environment, value: datetime | None, zone: str | None = None) -> str:
    return spoken_time(value, _zone(env, zone)) if value is not None else ""


@pass_environment
def format_window(
    env: Environment, start: datetime | None, end: datetime | None, zone: str | None = None
) -> str:
    """A pickup window: "Saturday 4 July 2026, 08:00 to 11:00 BST"."""
    return spoken_window(start, end, _zone(env, zone)) if start is not None else ""


def build_environment(time_zone: str = DEFAULT_ZONE, *, html: bool = True) -> Environment:
    """The pages' environment; `html=False` only for the plain text part of mails."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,  # noqa: S701 - off only for the text part of mails
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["time_zone"] = time_zone
    env.filters["money"] = format_money
    env.filters["when"] = format_when
    env.filters["day"] = format_date
    env.filters["clock"] = format_time
    env.filters["window"] = format_window
    env.globals["handover_of"] = handover_of  # an order's pickup or delivery, or None
    return env
