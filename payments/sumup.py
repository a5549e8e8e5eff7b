"""The SumUp client: hosted checkouts, their status, and refunds, over HTTP.

It speaks through ``payments.wire.ProviderHTTP`` (a lean keep-alive client), or through an
``httpx.AsyncClient`` it is given (tests hand it a ``MockTransport``).

Faithful to SumUp's published OpenAPI description of these endpoints:

- ``POST /v0.1/checkouts`` (CreateCheckout, 201 ``Checkout``; 409 ``DUPLICATED_CHECKOUT``
  when the ``checkout_reference`` was used before, answered here by looking it up and
  reusing it, so creating is idempotent per reference);
- ``GET /v0.1/checkouts?checkout_reference=`` (ListCheckouts, 200 array of CheckoutSuccess);
- ``GET /v0.1/checkouts/{id}`` (GetCheckout, 200 ``CheckoutSuccess``, 404 ``Error``);
- ``POST /v1.0/merchants/{merchant_code}/payments/{transaction_id}/refunds``
  (RefundTransaction, 201 ``{}``; 400/403/404/409/422 ``Problem``; no idempotency key);
- ``GET /v2.1/merchants/{merchant_code}/transactions?id=`` (GetTransactionV2.1, 200
  ``TransactionFull``): its ``transaction_events`` (or ``events``) of type REFUND say how
  much went back, which is how a refund whose answer was lost is found to be made.

Money crosses the wire through ``payments.money`` and nowhere else. The API key goes in the
Authorization header of each request and never into a log line, an error or a repr.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn, Protocol
from urllib.parse import quote

import httpx

from payments import json_text
from payments.exceptions import (
    CheckoutExpired,
    DuplicateCheckout,
    InvalidRequest,
    NotAuthorized,
    NotFound,
    ProviderRejected,
    ProviderUnavailable,
    RefundRefused,
    UnsupportedCurrency,
)
from payments.money import check_currency, to_major_units
from payments.provider import Checkout, CheckoutStatus, Refund
from payments.sumup_json import error_fields, format_datetime, parse_checkout, refunded_in
from payments.wire import ProviderHTTP

log = logging.getLogger(__name__)

SUMUP_API_URL = "https://api.sumup.com"
# OpenAPI ``Currency`` enum: the currencies SumUp takes checkouts in.
SUMUP_CURRENCIES = frozenset(
    "BGN BRL CHF CLP COP CZK DKK EUR GBP HRK HUF NOK PLN RON SEK USD".split()
)
MAX_REFERENCE_LENGTH = 90  # OpenAPI CheckoutCreateRequest.checkout_reference.maxLength


class Answer(Protocol):
    """What the client reads of an answer: httpx's Response, or payments.wire's."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...


class SumUpClient:
    """``PaymentProvider`` for SumUp (or the sandbox, which speaks the same API).

    Pass ``http`` to send through that httpx client (the caller closes it); otherwise the
    client owns a ``ProviderHTTP`` and ``aclose()`` closes it. `check` runs before every
    request it sends (e.g. ``store.held.outside_units``); an httpx client brings its own.
    """

    def __init__(
        self,
        *,
        api_key: str,
        merchant_code: str,
        base_url: str = SUMUP_API_URL,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        user_agent: str | None = None,
        tls: ssl.SSLContext | None = None,
        check: Callable[[str], None] | None = None,
    ) -> None:
        """`tls`: the process's TLS client context to share (loading the CA bundle for a
        new one costs ~0.1 s); by default one is loaded at the first https connection."""
        if not api_key:
            raise ValueError("SumUp API key is empty")
        if not merchant_code:
            raise ValueError("SumUp merchant code is empty")
        self._api_key = api_key
        self.merchant_code = merchant_code
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._wire: ProviderHTTP | None = None
        if http is None:
            headers = {"User-Agent": user_agent} if user_agent else None
            self._wire = ProviderHTTP(
                self.base_url, timeout=timeout, headers=headers, tls=tls, check=check
            )
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"SumUpClient(base_url={self.base_url!r}, merchant_code={self.merchant_code!r})"

    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()

    async def __aenter__(self) -> SumUpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the protocol --------------------------------------------------------------------

    async def create_checkout(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        description: str,
        return_url: str | None,
        redirect_url: str | None,
        valid_until: datetime | None,
    ) -> Checkout:
        check_currency(currency)
        if currency not in SUMUP_CURRENCIES:
            raise UnsupportedCurrency(
                f"Card payments in {currency} are not available here.",
                f"SumUp does not take checkouts in {currency}",
            )
        if not reference or len(reference) > MAX_REFERENCE_LENGTH:
            raise ValueError(f"checkout reference must be 1..{MAX_REFERENCE_LENGTH} characters")
        body: dict[str, Any] = {
            "checkout_reference": reference,
            "amount": to_major_units(amount, currency),
            "currency": currency,
            "merchant_code": self.merchant_code,
            "description": description,
            "hosted_checkout": {"enabled": True},
        }
        if return_url:
            body["return_url"] = return_url
        if redirect_url:
            body["redirect_url"] = redirect_url
        if valid_until is not None:
            body["valid_until"] = format_datetime(valid_until)
        # Idempotent per reference (a repeat is answered 409 and reused below), so it may
        # be sent again after a stale keep-alive connection.
        response = await self._request(
            "POST", "/v0.1/checkouts", "create checkout", json=body, idempotent=True
        )
        if response.status_code in (200, 201):
            return parse_checkout(self._json(response))
        fields = error_fields(response.content)
        if response.status_code == 409 and fields["error_code"] == "DUPLICATED_CHECKOUT":
            return await self._reuse(reference)
        self._raise_for(response, "create checkout")

    async def fetch_checkout(self, checkout_id: str) -> Checkout:
        path = f"/v0.1/checkouts/{quote(checkout_id, safe='')}"
        response = await self._request("GET", path, "fetch checkout")
        if response.status_code == 200:
            return parse_checkout(self._json(response))
        self._raise_for(response, "fetch checkout")

    async def find_by_reference(self, reference: str) -> Checkout | None:
        response = await self._request(
            "GET", "/v0.1/checkouts", "find checkout", params={"checkout_reference": reference}
        )
        if response.status_code != 200:
            self._raise_for(response, "find checkout")
        items = self._json(response)
        if not isinstance(items, list):
            raise ProviderUnavailable("checkout list is not a JSON array")
        # The filter is the provider's; check it, and prefer a checkout that can still pay.
        found = [parse_checkout(item) for item in items if isinstance(item, dict)]
        found = [checkout for checkout in found if checkout.reference == reference]
        found.sort(key=lambda checkout: checkout.status == CheckoutStatus.EXPIRED)
        return found[0] if found else None

    async def refund(
        self, transaction_id: str, amount: Decimal | None = None, *, currency: str | None = None
    ) -> Refund:
        body: dict[str, Any] | None = None
        if amount is not None:
            if currency is None:
                raise ValueError("a partial refund needs the currency of its amount")
            body = {"amount": to_major_units(amount, currency)}
        path = (
            f"/v1.0/merchants/{quote(self.merchant_code, safe='')}"
            f"/payments/{quote(transaction_id, safe='')}/refunds"
        )
        response = await self._request("POST", path, "refund", json=body)
        if response.status_code in (200, 201, 204):
            return Refund(transaction_id, amount, currency)
        if response.status_code in (409, 422):
            fields = error_fields(response.content)
            raise RefundRefused("refund", response.status_code, **fields)
        self._raise_for(response, "refund")

    async def refunded_amount(self, transaction_id: str) -> Decimal | None:
        path = f"/v2.1/merchants/{quote(self.merchant_code, safe='')}/transactions"
        response = await self._request(
            "GET", path, "fetch transaction", params={"id": transaction_id}
        )
        if response.status_code != 200:
            self._raise_for(response, "fetch transaction")
        return refunded_in(self._json(response))

    # -- the edge ------------------------------------------------------------------------

    async def _reuse(self, reference: str) -> Checkout:
        existing = await self.find_by_reference(reference)
        if existing is None:
            raise DuplicateCheckout(
                "create checkout",
                409,
                error_code="DUPLICATED_CHECKOUT",
                detail=f"reference {reference!r} exists but the lookup found no checkout",
            )
        log.info("reusing SumUp checkout %s for reference %s", existing.id, reference)
        if existing.hosted_checkout_url is None and existing.status != CheckoutStatus.EXPIRED:
            # The list may leave out the hosted page's URL; the single read carries it.
            existing = await self.fetch_checkout(existing.id)
        if existing.status == CheckoutStatus.EXPIRED:
            raise CheckoutExpired(
                "The time to pay for this order has run out. Please check out again.",
                f"SumUp checkout {existing.id} for reference {reference!r} has expired",
            )
        return existing

    async def _request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """`idempotent`: the request may be sent twice (GETs are; a refund is not)."""
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        response: Answer
        try:
            if self._wire is not None:
                response = await self._wire.request(
                    method,
                    path,
                    headers=headers,
                    json_body=json,
                    params=params,
                    idempotent=idempotent,
                )
            else:
                assert self._http is not None
                response = await self._http.request(
                    method,
                    self.base_url + path,
                    headers=headers,
                    timeout=self._timeout,
                    json=json,
                    params=params,
                )
        except httpx.HTTPError as error:
            # httpx errors name the URL, never the headers; still, keep our own wording.
            raise ProviderUnavailable(
                f"{operation}: {type(error).__name__} talking to {self.base_url}"
            ) from error
        log.debug("SumUp %s %s -> %s", method, path, response.status_code)
        return response

    @staticmethod
    def _json(response: Answer) -> Any:
        try:
            return json_text.loads(response.content, parse_float=Decimal)
        except ValueError as error:
            raise ProviderUnavailable(
                f"HTTP {response.status_code} with a body that is not JSON"
            ) from error

    @staticmethod
    def _raise_for(response: Answer, operation: str) -> NoReturn:
        status = response.status_code
        if status == 429 or status >= 500:
            raise ProviderUnavailable(f"{operation}: HTTP {status}", status)
        fields = error_fields(response.content)
        if status in (401, 403):
            raise NotAuthorized(operation, status, **fields)
        if status == 404:
            raise NotFound(operation, status, **fields)
        if status in (400, 422):
            raise InvalidRequest(operation, status, **fields)
        if status >= 300:
            raise ProviderRejected(operation, status, **fields)
        raise ProviderUnavailable(f"{operation}: unexpected HTTP {status}", status)
