"""Read a SumUp webhook body as "checkout X may have changed", and nothing more.

SumUp calls a checkout's ``return_url`` in one of two documented shapes:

- the checkout webhook (https://developer.sumup.com/online-payments/webhooks)::

      {"event_type": "CHECKOUT_STATUS_CHANGED", "id": "<checkout id>"}

- the newer event envelope (https://developer.sumup.com/webhook-docs/events), whose top-level
  ``id`` is the *event's* id and whose checkout id sits in the payload::

      {"id": "<event id>", "event_type": "checkout.status.updated",
       "payload": {"checkout_id": "...", "reference": "...", "status": "FAILED"},
       "timestamp": "2024-09-12T12:43:24.818+00:00"}

Webhooks are unsigned, so the body is a hint: the status and reference in it are ignored
and the checkout must be fetched from the API ("your application must always verify if the
event really took place", SumUp's webhook page). Unknown events yield None; SumUp asks
integrators to ignore them silently, so answer them 2xx and do nothing.
"""

from __future__ import annotations

from payments import json_text
from payments.provider import CheckoutNotice

LEGACY_EVENT = "CHECKOUT_STATUS_CHANGED"
CHECKOUT_EVENT = "checkout.status.updated"
# Checkout ids are UUIDs; the cap only keeps junk out of logs and queries.
_MAX_ID_LENGTH = 128


def _usable_id(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH and value.isprintable():
        return value
    return None


def parse_webhook(body: bytes | str) -> CheckoutNotice | None:
    """The checkout a SumUp webhook body points at, or None if it is not one we know."""
    try:
        data = json_text.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    event_type = data.get("event_type")
    if event_type == LEGACY_EVENT:
        checkout_id = _usable_id(data.get("id"))
        return CheckoutNotice(checkout_id, None, "legacy") if checkout_id else None
    if event_type == CHECKOUT_EVENT:
        payload = data.get("payload")
        if not isinstance(payload, dict):
            return None
        checkout_id = _usable_id(payload.get("checkout_id"))
        if checkout_id is None:
            return None
        return CheckoutNotice(checkout_id, _usable_id(data.get("id")), "event")
    return None
