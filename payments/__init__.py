"""payments: taking money.

Owns the payment-provider protocol, the SumUp client, and a SumUp sandbox (a real HTTP
app that speaks the same API subset) for demos and tests. Knows
amounts and references, never carts. Imports nothing of ours.

Modules:

- ``provider``: the ``PaymentProvider`` protocol and its values (``Checkout``,
  ``CheckoutStatus``, ``Transaction``, ``Refund``, ``CheckoutNotice``);
- ``money``: Decimal <-> major-unit JSON numbers by ISO 4217 minor unit, at the edge only;
- ``sumup``: ``SumUpClient`` (idempotent create per reference), over ``wire``'s
  ``ProviderHTTP`` (a lean keep-alive HTTP/1.1 client) or a given ``httpx.AsyncClient``;
- ``webhooks``: ``parse_webhook`` turns either documented SumUp webhook body into "checkout
  X may have changed"; the body is never trusted beyond that;
- ``exceptions``: errors sorted by who they are for (the shopper or the log);
- ``unconfigured``: ``NotConfigured``, the provider of a shop that may not take money;
- ``sandbox``: ``create_sandbox_app()`` and ``python -m payments.sandbox``.
"""

from payments.exceptions import (
    PaymentError,
    ProviderUnavailable,
    RedirectRequired,
    UnableToTakePayment,
)
from payments.provider import (
    Checkout,
    CheckoutNotice,
    CheckoutStatus,
    PaymentProvider,
    Refund,
    Transaction,
    TransactionStatus,
)
from payments.sumup import SUMUP_API_URL, SumUpClient
from payments.webhooks import parse_webhook

__all__ = [
    "SUMUP_API_URL",
    "Checkout",
    "CheckoutNotice",
    "CheckoutStatus",
    "PaymentError",
    "PaymentProvider",
    "ProviderUnavailable",
    "RedirectRequired",
    "Refund",
    "SumUpClient",
    "Transaction",
    "TransactionStatus",
    "UnableToTakePayment",
    "parse_webhook",
]
