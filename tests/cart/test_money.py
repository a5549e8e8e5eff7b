"""Money: Decimal amounts in one currency, shown the way a shopper reads prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cart.exceptions import CurrencyMismatch, InvalidMoney
from cart.money import Money, sum_by_currency


def test_amounts_read_in_the_shop_locale_with_their_minor_units() -> None:
    assert Money.of("3.5", "GBP").format() == "£3.50"
    assert Money.of("12", "EUR").format() == "€12.00"
    assert Money.of("-1", "USD").format() == "-US$1.00"
    assert str(Money.of("1000", "JPY")) == "JP¥1,000"  # no minor unit


def test_currencies_without_a_local_symbol_read_with_their_code() -> None:
    assert Money.of("3.5", "CHF").format() == "CHF3.50"  # en_GB's CLDR pattern


def test_more_precision_than_the_minor_unit_is_shown_not_rounded_away() -> None:
    assert Money.of("0.125", "GBP").format() == "£0.125"
    assert Money.of("0.125", "GBP").plain() == "0.125"


def test_trailing_zeros_are_not_precision_and_only_real_extra_digits_cannot_be_charged() -> None:
    assert Money.of("3.500", "GBP").plain() == "3.50"
    assert not Money.of("3.500", "GBP").finer_than_its_currency()
    assert Money.of("3.505", "GBP").finer_than_its_currency()
    assert Money.of("1.5", "JPY").finer_than_its_currency()
    assert not Money.of("1.005", "KWD").finer_than_its_currency()
    assert not Money.of("1.23456", "XAU").finer_than_its_currency()  # no minor unit


def test_adding_two_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "GBP") + Money.of("1", "EUR")
    with pytest.raises(CurrencyMismatch):
        assert Money.of("1", "GBP") < Money.of("2", "EUR")


def test_floats_and_unknown_currencies_are_refused() -> None:
    with pytest.raises(InvalidMoney):
        Money.of(0.1, "GBP")  # type: ignore[arg-type]
    with pytest.raises(InvalidMoney):
        Money.of("1", "XXY")
    with pytest.raises(InvalidMoney):
        Money.of("NaN", "GBP")
    with pytest.raises(InvalidMoney):
        Money.of("three", "GBP")


def test_equal_amounts_are_equal_money_whatever_their_trailing_zeros() -> None:
    assert Money.of("3.5", "GBP") == Money.of("3.50", "GBP")
    assert len({Money.of("3.5", "GBP"), Money.of("3.50", "GBP")}) == 1
    assert Money.of("3.5", "GBP") != Money.of("3.5", "EUR")


def test_sums_keep_one_total_per_currency() -> None:
    totals = sum_by_currency(
        [Money.of("3.50", "GBP"), Money.of("2", "EUR"), Money.of("0.10", "GBP") * 3]
    )
    assert totals == (Money.of("2", "EUR"), Money.of("3.80", "GBP"))
    assert sum_by_currency([]) == ()


cents = st.integers(min_value=0, max_value=10**9)


@given(st.lists(cents, max_size=20), st.integers(min_value=1, max_value=99))
def test_totals_are_exact_to_the_penny(amounts: list[int], quantity: int) -> None:
    prices = [Money(Decimal(a).scaleb(-2), "GBP") * quantity for a in amounts]
    (total,) = sum_by_currency(prices) or (Money.zero("GBP"),)
    assert total.amount == Decimal(sum(amounts) * quantity).scaleb(-2)
