"""Both documented SumUp webhook shapes, read as "checkout X may have changed"."""

from __future__ import annotations

import json

import pytest

from payments import CheckoutNotice, parse_webhook


def test_the_checkout_webhook_names_the_checkout_in_id() -> None:
    # https://developer.sumup.com/online-payments/webhooks
    body = b'{"event_type": "CHECKOUT_STATUS_CHANGED", "id": "id-of-the-changed-checkout"}'
    assert parse_webhook(body) == CheckoutNotice("id-of-the-changed-checkout", None, "legacy")


def test_the_event_envelope_names_the_checkout_in_its_payload_not_in_id() -> None:
    # https://developer.sumup.com/webhook-docs/events (the example there, verbatim values)
    body = json.dumps(
        {
            "id": "c56dc7d23e1dad876cb1e2954854db9e",
            "event_type": "checkout.status.updated",
            "payload": {
                "checkout_id": "e24bab0f-1464-4ffe-b6a2-dc33eca5e1e9",
                "reference": "6bda4155-bb08-4e92-8068-8a4c41b47bf0",
                "status": "FAILED",
            },
            "timestamp": "2024-09-12T12:43:24.818+00:00",
        }
    )
    notice = parse_webhook(body)
    assert notice == CheckoutNotice(
        "e24bab0f-1464-4ffe-b6a2-dc33eca5e1e9", "c56dc7d23e1dad876cb1e2954854db9e", "event"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"CHECKOUT_STATUS_CHANGED"',
        b'{"event_type": "solo.transaction.updated", "id": "x", "payload": {}}',
        b'{"event_type": "CHECKOUT_STATUS_CHANGED"}',
        b'{"event_type": "CHECKOUT_STATUS_CHANGED", "id": 42}',
        b'{"event_type": "checkout.status.updated", "id": "e1"}',
        b'{"event_type": "checkout.status.updated", "payload": {"checkout_id": ""}}',
        b'{"event_type": "CHECKOUT_STATUS_CHANGED", "id": "a\\nb"}',
        b"\xff\xfe",
        b'{"a":' * 5000 + b"1" + b"}" * 5000,  # deeper than the recursion limit
    ],
)
def test_anything_else_is_ignored(body: bytes) -> None:
    assert parse_webhook(body) is None


def test_the_body_status_is_not_carried_forward() -> None:
    body = (
        b'{"event_type":"checkout.status.updated","payload":{"checkout_id":"c1","status":"PAID"}}'
    )
    notice = parse_webhook(body)
    assert notice is not None and not hasattr(notice, "status")
