"""How dates, times and money read for people: one locale, zones named by IANA.

The words (day and month names, currency symbols, digit grouping) come from Babel's
CLDR data rather than from the C library's locale, which differs from one machine to
the next. A time is always shown in a zone and with that zone's abbreviation from the
zone database ("19:00 BST", "10:00 GMT"), so nobody has to guess which clock it means.
An unknown zone name falls back to UTC, never to an error: it came from a setting that
was checked at start-up, or from a peer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from babel.numbers import format_currency

LOCALE = "en_GB"


@cache
def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_time(value: datetime, zone: str) -> datetime:
    """The instant on the wall clock of `zone` (a naive value is taken as UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone_named(zone))


def spoken_date(value: date) -> str:
    """ "Saturday 18 July 2026"."""
    return str(format_date(value, "EEEE d MMMM y", locale=LOCALE))


def spoken_time(value: datetime, zone: str) -> str:
    """ "19:00 BST"."""
    local = local_time(value, zone)
    return f"{format_time(local, 'HH:mm', locale=LOCALE)} {local.tzname()}"


def spoken_datetime(value: datetime, zone: str) -> str:
    """ "Saturday 18 July 2026, 19:00 BST"."""
    local = local_time(value, zone)
    return f"{spoken_date(local.date())}, {spoken_time(local, zone)}"


def spoken_window(start: datetime, end: datetime | None, zone: str) -> str:
    """ "Saturday 4 July 2026, 08:00 to 11:00 BST"; across days, both in full."""
    if end is None:
        return spoken_datetime(start, zone)
    first, last = local_time(start, zone), local_time(end, zone)
    if first.date() != last.date():
        return f"{spoken_datetime(start, zone)} to {spoken_datetime(end, zone)}"
    opens = format_time(first, "HH:mm", locale=LOCALE)
    if first.tzname() != last.tzname():  # the clocks change inside the window
        opens = f"{opens} {first.tzname()}"
    return f"{spoken_date(first.date())}, {opens} to {spoken_time(end, zone)}"


def spoken_money(amount: Decimal, currency: str) -> str:
    """ "£3.50", "€12.00", "CHF3.50"; never rounds: more places than the currency's
    minor unit (a peer may send them) are shown as they are.

    Babel's formatting was a fifth of a page's render under load (bench/cart, GET /), and
    a shop shows the same few prices again and again: the words are kept for the last
    4,096 amounts. By their text, so that 3.5 and 3.500 (equal Decimals) stay apart."""
    return _spoken_money(str(amount), currency)


@lru_cache(maxsize=4096)
def _spoken_money(amount: str, currency: str) -> str:
    return str(
        format_currency(Decimal(amount), currency, locale=LOCALE, decimal_quantization=False)
    )
