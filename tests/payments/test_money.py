"""Decimal <-> SumUp's major-unit numbers: exact, or refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from payments.exceptions import InvalidAmount
from payments.money import check_amount, from_major_units, minor_unit, to_major_units


@pytest.mark.parametrize(
    ("amount", "currency", "wire"),
    [
        ("10.10", "EUR", "10.1"),
        ("10.00", "EUR", "10"),
        ("0.01", "GBP", "0.01"),
        ("1500", "JPY", "1500"),
        ("1500", "CLP", "1500"),
        ("1.234", "KWD", "1.234"),
        ("0.005", "BHD", "0.005"),
        ("99999999.99", "EUR", "99999999.99"),
    ],
)
def test_amounts_go_out_as_the_exact_major_unit_number(
    amount: str, currency: str, wire: str
) -> None:
    number = to_major_units(Decimal(amount), currency)
    assert json.dumps(number) == wire
    assert from_major_units(
        json.loads(json.dumps(number), parse_float=Decimal), currency
    ) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.001", "EUR"),  # a tenth of a cent
        ("1.5", "JPY"),  # yen have no minor unit
        ("0.1", "CLP"),
        ("1.2345", "KWD"),  # fils are thousandths
        ("0", "EUR"),
        ("-5.00", "EUR"),
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
    ],
)
def test_amounts_the_currency_cannot_hold_are_refused_not_rounded(
    amount: str, currency: str
) -> None:
    with pytest.raises(InvalidAmount):
        to_major_units(Decimal(amount), currency)


def test_trailing_zeros_beyond_the_minor_unit_are_the_same_amount() -> None:
    assert to_major_units(Decimal("1500.00"), "JPY") == 1500
    assert check_amount(Decimal("1.2"), "KWD") == Decimal("1.200")


def test_floats_and_bad_currency_codes_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        to_major_units(10.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        to_major_units(Decimal("10"), "eur")
    with pytest.raises(InvalidAmount):
        from_major_units(True, "EUR")


def test_minor_units_follow_iso_4217() -> None:
    assert [minor_unit(c) for c in ("EUR", "JPY", "CLP", "KWD", "BHD", "HUF")] == [2, 0, 0, 3, 3, 2]


def test_incoming_amounts_keep_extra_precision_so_a_mismatch_shows() -> None:
    assert from_major_units(Decimal("10.1"), "EUR") == Decimal("10.10")
    assert str(from_major_units(Decimal("10.1"), "EUR")) == "10.10"
    assert from_major_units(Decimal("10.105"), "EUR") == Decimal("10.105")
    assert from_major_units(12, "JPY") == Decimal("12")


def test_a_code_without_a_minor_unit_is_sent_with_two_decimals() -> None:
    # Gold and the SDR have no ISO 4217 minor unit; providers treat them as 2.
    assert minor_unit("XAU") == 2 and minor_unit("XDR") == 2
