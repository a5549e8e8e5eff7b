"""Money as a value: a Decimal amount in one ISO 4217 currency, never a float.

Adding or comparing amounts in two currencies raises `CurrencyMismatch` instead of
producing a number that means nothing; sums over mixed currencies go through
`sum_by_currency`, which keeps one total per currency. Display formatting is Babel's
(cart/locale.py): "£3.50", "CHF3.50"; it pads to the currency's minor unit and never
rounds finer amounts away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cart.exceptions import CurrencyMismatch, InvalidMoney
from cart.locale import spoken_money
from vocab.model import MonetaryAmount
from vocab.money import finer_than_the_currency, format_amount, is_currency, minor_unit


@dataclass(frozen=True, slots=True, eq=False)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidMoney(f"an amount must be a finite Decimal, not {self.amount!r}")
        if not is_currency(self.currency):
            raise InvalidMoney(f"{self.currency!r} is not an ISO 4217 currency code")

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """From text or an int (never a float: `Money.of(0.1, ...)` is refused)."""
        if isinstance(amount, float | bool):
            raise InvalidMoney(f"amounts are never floats or booleans: {amount!r}")
        try:
            return cls(Decimal(amount), currency)
        except InvalidOperation:
            raise InvalidMoney(f"{amount!r} is not a decimal amount") from None

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_wire(cls, value: MonetaryAmount) -> Money:
        return cls(value.amount, value.currency)

    def to_wire(self) -> MonetaryAmount:
        return MonetaryAmount(amount=self.amount, currency=self.currency)

    def _same(self, other: object, verb: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {verb} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot {verb} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: object) -> Money:
        return Money(self.amount + self._same(other, "add").amount, self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(self.amount - self._same(other, "subtract").amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise TypeError("Money is multiplied by whole quantities only")
        return Money(self.amount * quantity, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: object) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __eq__(self, other: object) -> bool:
        # 3.5 GBP and 3.50 GBP are the same money.
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount.normalize(), self.currency))

    def quantized(self) -> Decimal:
        """The amount padded to the currency's minor unit: 3.5 GBP -> 3.50."""
        places = minor_unit(self.currency)
        if places is None or finer_than_the_currency(self.amount, self.currency):
            # More precision than the minor unit (a peer may send 6 places): never round
            # money away silently; show it all.
            return self.amount
        return self.amount.quantize(Decimal(1).scaleb(-places))

    def finer_than_its_currency(self) -> bool:
        """More decimals than the currency has (3.505 GBP): it cannot be charged."""
        return finer_than_the_currency(self.amount, self.currency)

    def plain(self) -> str:
        """ "3.50": the amount without a symbol (forms, wire)."""
        return format_amount(self.quantized())

    def format(self) -> str:
        """For people: "£3.50", "€12.00", "-US$1.00", "CHF3.50" (the shop's locale)."""
        return spoken_money(self.quantized(), self.currency)

    def __str__(self) -> str:
        return self.format()


def sum_by_currency(amounts: Iterable[Money]) -> tuple[Money, ...]:
    """One total per currency, ordered by currency code; empty for no amounts."""
    totals: dict[str, Money] = {}
    for money in amounts:
        held = totals.get(money.currency)
        totals[money.currency] = money if held is None else held + money
    return tuple(totals[code] for code in sorted(totals))
