"""Errors of the cart's domain (catalogue mirror, cart lines, money).

    CartError                   base; `message` is safe to show a shopper
    ├── InvalidMoney            not a Decimal amount / not an ISO 4217 code (a bug, or bad input)
    ├── CurrencyMismatch        two currencies added or compared
    ├── NotFound                nothing of that id here *for this shopper*: answer 404
    │   ├── LineNotFound        a cart line id that is not in this shopper's cart (or none)
    │   └── ItemNotFound        no catalogue item with that id
    ├── ItemNotAvailable        withdrawn, not available, sold out or already started
    └── InvalidQuantity         a quantity below 0 or absurdly large

Another shopper's line id raises `LineNotFound`, exactly like an id that never
existed, so a probe learns nothing; nothing is changed before it is raised.
Account/session errors are cart/identity/accounts.py's own.
"""

from __future__ import annotations


class CartError(Exception):
    default_message = "Something went wrong with your cart."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidMoney(CartError, ValueError):
    default_message = "That is not an amount of money we understand."


class CurrencyMismatch(CartError, ValueError):
    default_message = "Amounts in different currencies cannot be added together."


class NotFound(CartError):
    default_message = "We could not find that."


class LineNotFound(NotFound):
    default_message = "That item is not in your cart."


class ItemNotFound(NotFound):
    default_message = "We could not find that product or event."


class ItemNotAvailable(CartError):
    default_message = "Sorry, that can no longer be bought."


class InvalidQuantity(CartError, ValueError):
    default_message = "Please choose a quantity of 1 or more."
