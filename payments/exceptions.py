"""Errors of the payments package, sorted by who they are for.

Every error carries ``shopper_message``: text that is safe to show the shopper. ``str(error)``
is the detail for the log (status codes, SumUp error codes, ids; never the API key).
Catch ``PaymentError`` in one place, after the more specific classes you handle yourself.

    PaymentError                  log it; tell the shopper something generic
    ├── RedirectRequired          not a failure: send the browser to ``url`` (the hosted page)
    ├── UnableToTakePayment       ``shopper_message`` says why, in words fit for the shopper
    │   ├── CheckoutExpired       the provider's checkout for this reference can no longer be paid
    │   └── UnsupportedCurrency   the provider does not take payments in this currency
    ├── InvalidAmount             (also a ValueError) not a positive amount the currency can hold,
    │                             e.g. 10.001 EUR or 1.5 JPY; a bug on our side, never sent
    ├── ProviderUnavailable       network failure, timeout, 429 or 5xx; safe to retry later
    └── ProviderRejected          the provider refused the request (4xx); retrying will not help
        ├── NotAuthorized         401/403: API key wrong, revoked or missing a scope
        ├── InvalidRequest        400: a field the provider did not accept (``param`` names it)
        ├── NotFound              404: no such checkout or transaction
        ├── DuplicateCheckout     409 DUPLICATED_CHECKOUT and no checkout found by its reference
        └── RefundRefused         409/422 on a refund: not refundable, or more than is left
"""

from __future__ import annotations

GENERIC_SHOPPER_MESSAGE = (
    "Something went wrong while talking to our payment provider. Please try again in a few minutes."
)


class PaymentError(Exception):
    """A payment went wrong in a way the shopper cannot fix: log ``str(self)``."""

    shopper_message: str = GENERIC_SHOPPER_MESSAGE


class RedirectRequired(PaymentError):
    """The shopper's browser must go to ``url`` (the provider's hosted checkout) to go on."""

    shopper_message = "Continue to the payment page to pay."

    def __init__(self, url: str) -> None:
        super().__init__(f"redirect required to {url}")
        self.url = url


class UnableToTakePayment(PaymentError):
    """The payment cannot go ahead; ``shopper_message`` tells the shopper why."""

    def __init__(self, shopper_message: str, detail: str | None = None) -> None:
        super().__init__(detail or shopper_message)
        self.shopper_message = shopper_message


class CheckoutExpired(UnableToTakePayment):
    pass


class UnsupportedCurrency(UnableToTakePayment):
    pass


class InvalidAmount(PaymentError, ValueError):
    pass


class ProviderUnavailable(PaymentError):
    """Transient: the provider could not be reached or answered 429/5xx."""

    retryable = True

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


class ProviderRejected(PaymentError):
    """The provider answered with a 4xx the caller did not expect.

    ``status`` is the HTTP status; ``error_code``, ``param`` and ``detail`` come from the
    provider's error body (SumUp's ``Error``/``ErrorExtended``/``ErrorForbidden``/``Problem``).
    """

    retryable = False

    def __init__(
        self,
        operation: str,
        status: int,
        *,
        error_code: str | None = None,
        param: str | None = None,
        detail: str | None = None,
    ) -> None:
        parts = [f"{operation}: HTTP {status}"]
        if error_code:
            parts.append(f"error_code={error_code}")
        if param:
            parts.append(f"param={param}")
        if detail:
            parts.append(f"detail={detail!r}")
        super().__init__(" ".join(parts))
        self.operation = operation
        self.status = status
        self.error_code = error_code
        self.param = param
        self.detail = detail


class NotAuthorized(ProviderRejected):
    pass


class InvalidRequest(ProviderRejected):
    pass


class NotFound(ProviderRejected):
    pass


class DuplicateCheckout(ProviderRejected):
    pass


class RefundRefused(ProviderRejected):
    pass
