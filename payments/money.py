"""Decimal money <-> a provider's major-unit JSON number, at the HTTP edge only.

Inside rose-cart money is ``Decimal``. SumUp's API takes and returns ``amount`` as a JSON
number in major units (10.1 means EUR 10.10). The number of decimals a currency allows is
its ISO 4217 minor unit: 2 for most, 0 for JPY or CLP, 3 for KWD or BHD. An amount with
more precision than that is refused here rather than rounded: rounding money silently is
how orders and payments drift apart.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from payments.exceptions import InvalidAmount

# ISO 4217 minor units: the project's one table, vocab/iso4217.json (its source is
# recorded in the file). Read by path, not through vocab: payments imports nothing of
# ours (docs/design.md). Codes without a minor unit (gold, SDR) or unknown use 2.
ISO4217 = Path(__file__).resolve().parent.parent / "vocab" / "iso4217.json"


@cache
def _minor_units() -> dict[str, int | None]:
    units: dict[str, int | None] = json.loads(ISO4217.read_text(encoding="utf-8"))["minor_units"]
    return units


def check_currency(currency: str) -> str:
    """The code itself if it looks like an ISO 4217 alphabetic code (three capitals)."""
    if not (
        isinstance(currency, str)
        and len(currency) == 3
        and currency.isascii()
        and currency.isalpha()
        and currency.isupper()
    ):
        raise InvalidAmount(f"{currency!r} is not an ISO 4217 currency code")
    return currency


def minor_unit(currency: str) -> int:
    """How many decimals an amount in ``currency`` may have (ISO 4217 minor unit)."""
    places = _minor_units().get(check_currency(currency))
    return 2 if places is None else places


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """``amount`` at the currency's precision; refuses non-positive or too precise amounts."""
    if not isinstance(amount, Decimal):
        raise InvalidAmount(f"amount must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount(f"amount {amount} {currency} is not a positive amount")
    step = quantum(currency)
    try:
        exact = amount.quantize(step)
    except InvalidOperation as error:
        raise InvalidAmount(f"amount {amount} {currency} is too large") from error
    if exact != amount:
        raise InvalidAmount(
            f"amount {amount} {currency} has more than {minor_unit(currency)} decimal(s)"
        )
    return exact


def to_major_units(amount: Decimal, currency: str) -> int | float:
    """The JSON number to send for ``amount``: an int for 0-decimal currencies.

    A float is only returned when it reads back as exactly the same decimal (Python
    prints the shortest repr that round-trips), so the provider sees what we meant.
    """
    exact = check_amount(amount, currency)
    if exact == exact.to_integral_value():
        return int(exact)
    number = float(exact)
    if Decimal(repr(number)) != exact:
        raise InvalidAmount(f"amount {amount} {currency} cannot be sent exactly as a number")
    return number


def from_major_units(value: object, currency: str) -> Decimal:
    """A provider's major-unit number as a Decimal at the currency's precision.

    Parse JSON with ``parse_float=Decimal`` so no binary float ever touches the value. A
    value with more decimals than the currency allows is returned as it is: comparing it
    with an order then shows the mismatch instead of hiding it.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InvalidAmount(f"amount {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise InvalidAmount(f"amount {value!r} is not a number") from error
    if not number.is_finite():
        raise InvalidAmount(f"amount {value!r} is not a finite number")
    try:
        exact = number.quantize(quantum(currency))
    except InvalidOperation:
        return number
    return exact if exact == number else number
