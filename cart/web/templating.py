"""The Jinja environment of the shopper's pages.

Autoescaping is on for every template, whatever its name: product names, page names
and places come from peers and are untrusted text. Nothing here marks text safe.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"


def format_money(value: object) -> str:
    formatter = getattr(value, "format", None)
    return formatter() if callable(formatter) else str(value)


def format_when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%A %-d %B %Y, %H:%M")
    return value.strftime("%A %-d %B %Y")


def format_date(value: datetime | date | None) -> str:
    return value.strftime("%A %-d %B %Y") if value is not None else ""


def format_time(value: datetime | None) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = format_money
    env.filters["when"] = format_when
    env.filters["day"] = format_date
    env.filters["clock"] = format_time
    return env
