"""Money on the wire: a decimal string amount and an ISO 4217 currency code.

The code list (``iso4217.json``) is ISO 4217 List One as republished by the
datasets/currency-codes project (source and commit recorded in the file); Python has
no such list built in.
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
