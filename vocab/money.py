"""Money on the wire, and the ISO 4217 facts: codes, minor units, "finer than the currency".

The code list (``iso4217.json``) is ISO 4217 List One as republished by the
datasets/currency-codes project (source and commit recorded in the file); Python has
no such list built in. It is the project's one table of currencies: the shop reads it
through this module, and payments/money.py reads the same file at the provider edge
(payments imports nothing of ours, docs/design.md).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources

# Non-negative, plain notation, at most 12 integer and 6 fractional digits: no
# exponents, no NaN/Infinity, nothing a float could have produced by accident.
AMOUNT_PATTERN = re.compile(r"(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,6})?")


@cache
def currency_minor_units() -> dict[str, int | None]:
    text = resources.files("vocab").joinpath("iso4217.json").read_text(encoding="utf-8")
    units: dict[str, int | None] = json.loads(text)["minor_units"]
    return units


def minor_unit(currency: str) -> int | None:
    """How many decimals `currency` has (2 for EUR, 0 for JPY); None when ISO 4217 gives
    none (gold, SDR) or the code is unknown."""
    return currency_minor_units().get(currency)


def finer_than_the_currency(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has more decimals than `currency` has (3.505 GBP): such an amount
    cannot be charged. Trailing zeros do not count (3.500 GBP is 3.50 GBP)."""
    places = minor_unit(currency)
    exponent = amount.normalize().as_tuple().exponent
    return places is not None and isinstance(exponent, int) and -exponent > places


def is_currency(code: str) -> bool:
    return len(code) == 3 and code.isupper() and code in currency_minor_units()


def parse_amount(text: str) -> Decimal | None:
    """The Decimal a wire amount spells, or None when it is not one we accept."""
    if AMOUNT_PATTERN.fullmatch(text) is None:
        return None
    return Decimal(text)


def format_amount(amount: Decimal) -> str:
    """Plain notation, never an exponent (``str(Decimal('1E+2'))`` is ``'1E+2'``)."""
    return format(amount, "f")
