"""The sandbox's JSON API: the SumUp subset rose-cart uses, with SumUp's error shapes.

Shapes follow SumUp's OpenAPI description: 201 ``Checkout`` on create, ``CheckoutSuccess``
on reads, 400 ``ErrorExtended`` ({message, error_code MISSING|INVALID, param}), 401
``Problem``, 403 ``ErrorForbidden``, 404/409 ``Error``; refunds answer 201 ``{}`` or an
``application/problem+json`` Problem (400/403/404/409/422).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from payments import json_text
from payments.exceptions import InvalidAmount
from payments.money import check_amount
from payments.sandbox.ledger import LedgerError, SandboxCheckout, SandboxTransaction
from payments.sandbox.state import Sandbox
from payments.sumup import MAX_REFERENCE_LENGTH, SUMUP_CURRENCIES

PROBLEM_BASE = "https://developer.sumup.com/problem/"


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def json_response(
    content: Any, status: int = 200, media_type: str = "application/json"
) -> Response:
    return Response(
        json.dumps(content, separators=(",", ":")).encode(),
        status_code=status,
        media_type=media_type,
        headers={"Cache-Control": "no-store"},
    )


def validation_error(code: str, param: str) -> Response:
    return json_response({"message": "Validation error", "error_code": code, "param": param}, 400)


def error(status: int, code: str, message: str) -> Response:
    return json_response({"error_code": code, "message": message}, status)


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return json_response({**body, **extra}, status, "application/problem+json")


def unauthorized() -> Response:
    return json_response(
        {
            "detail": "Unauthorized.",
            "status": 401,
            "title": "Unauthorized",
            "trace_id": secrets.token_hex(16),
            "type": PROBLEM_BASE + "unauthorized",
        },
        401,
    )


def forbidden() -> Response:
    return json_response(
        {
            "error_message": "checkout_payments_not_allowed",
            "error_code": "FORBIDDEN",
            "status_code": "403",
        },
        403,
    )


def authorized(request: Request, sandbox: Sandbox) -> str | None:
    """The ledger owner of the request's Bearer key; None unless it is one of the keys the
    sandbox was configured with."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return sandbox.owner(token)


def render_transaction(transaction: SandboxTransaction) -> dict[str, Any]:
    return {
        "id": transaction.id,
        "transaction_code": transaction.code,
        "amount": _number(transaction.amount),
        "currency": transaction.currency,
        "timestamp": _when(transaction.timestamp),
        "status": transaction.status,
        "payment_type": "ECOM",
        "installments_count": 1,
        "merchant_code": transaction.merchant_code,
        "entry_mode": "CUSTOMER_ENTRY",
    }


def render_transaction_full(transaction: SandboxTransaction) -> dict[str, Any]:
    """``TransactionFull``, with a REFUND event for each refund (``transaction_events``)."""
    events = [
        {
            "id": number,
            "event_type": "REFUND",
            "status": "REFUNDED",
            "amount": _number(amount),
            "timestamp": _when(moment),
        }
        for number, (amount, moment) in enumerate(transaction.refunds, start=1)
    ]
    return {**render_transaction(transaction), "transaction_events": events}


def render_checkout(
    checkout: SandboxCheckout, sandbox: Sandbox, origin: str, *, success: bool
) -> dict[str, Any]:
    """``Checkout`` (create) or, with ``success``, ``CheckoutSuccess`` (reads)."""
    body: dict[str, Any] = {
        "checkout_reference": checkout.reference,
        "amount": _number(checkout.amount),
        "currency": checkout.currency,
        "merchant_code": checkout.merchant_code,
        "merchant_country": "DE",
        "merchant_name": sandbox.merchant_name,
        "id": checkout.id,
        "status": checkout.status,
        "date": _when(checkout.date),
        "purpose": "CHECKOUT",
        "transactions": [render_transaction(item) for item in checkout.transactions],
    }
    for key in ("description", "return_url", "redirect_url"):
        if getattr(checkout, key) is not None:
            body[key] = getattr(checkout, key)
    if checkout.valid_until is not None:
        body["valid_until"] = _when(checkout.valid_until)
    if checkout.hosted:
        body["hosted_checkout"] = {"enabled": True}
        body["hosted_checkout_url"] = sandbox.hosted_url(origin, checkout.id)
    paid = checkout.paid_transaction
    if success and paid is not None:
        body["transaction_id"] = paid.id
        body["transaction_code"] = paid.code
    return body


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    return json_text.loads(raw, parse_float=Decimal, parse_int=Decimal)


def _parse_create(data: Any, sandbox: Sandbox) -> dict[str, Any] | Response:
    if not isinstance(data, dict):
        return validation_error("INVALID", "body")
    for name in ("checkout_reference", "amount", "currency", "merchant_code"):
        if data.get(name) is None:
            return validation_error("MISSING", name)
    reference = data["checkout_reference"]
    if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        return validation_error("INVALID", "checkout_reference")
    currency = data["currency"]
    if not isinstance(currency, str) or currency not in SUMUP_CURRENCIES:
        return validation_error("INVALID", "currency")
    amount = data["amount"]
    if not isinstance(amount, Decimal):
        return validation_error("INVALID", "amount")
    try:
        amount = check_amount(amount, currency)
    except InvalidAmount:
        return validation_error("INVALID", "amount")
    merchant_code = data["merchant_code"]
    if not isinstance(merchant_code, str) or not merchant_code:
        return validation_error("INVALID", "merchant_code")
    if sandbox.merchant_code is not None and merchant_code != sandbox.merchant_code:
        return forbidden()
    for name in ("description", "return_url", "redirect_url"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return validation_error("INVALID", name)
        if name != "description" and value is not None and not _is_url(value):
            return validation_error("INVALID", name)
        if name != "description" and value is not None and not sandbox.allows(value):
            # Served on a shop's origin, the sandbox would otherwise be an open redirect
            # and a way to make it POST anywhere: only the allowed origins are taken.
            return validation_error("INVALID", name)
    if data.get("purpose", "CHECKOUT") not in ("CHECKOUT", "SETUP_RECURRING_PAYMENT"):
        return validation_error("INVALID", "purpose")
    valid_until = None
    if data.get("valid_until") is not None:
        try:
            valid_until = datetime.fromisoformat(data["valid_until"])
        except (TypeError, ValueError):
            return validation_error("INVALID", "valid_until")
        if valid_until.tzinfo is None or valid_until <= sandbox.ledger.clock():
            return validation_error("INVALID", "valid_until")
    hosted = data.get("hosted_checkout")
    if hosted is not None:
        if not isinstance(hosted, dict):
            return validation_error("INVALID", "hosted_checkout")
        if "enabled" not in hosted:
            return validation_error("MISSING", "hosted_checkout.enabled")
        if not isinstance(hosted["enabled"], bool):
            return validation_error("INVALID", "hosted_checkout.enabled")
    return {
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "merchant_code": merchant_code,
        "description": data.get("description"),
        "return_url": data.get("return_url"),
        "redirect_url": data.get("redirect_url"),
        "valid_until": valid_until,
        "hosted": bool(hosted and hosted["enabled"]),
    }


async def create_checkout(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    owner = authorized(request, sandbox)
    if owner is None:
        return unauthorized()
    try:
        data = await _json_body(request)
    except ValueError:
        return validation_error("INVALID", "body")
    parsed = _parse_create(data, sandbox)
    if isinstance(parsed, Response):
        return parsed
    try:
        checkout = sandbox.ledger.create(**parsed, owner=owner)
    except LedgerError as refusal:
        return error(409, "DUPLICATED_CHECKOUT", refusal.message)
    body = render_checkout(checkout, sandbox, sandbox.origin(request), success=False)
    return json_response(body, 201)


async def list_checkouts(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    owner = authorized(request, sandbox)
    if owner is None:
        return unauthorized()
    found = sandbox.ledger.find(request.query_params.get("checkout_reference"), owner)
    origin = sandbox.origin(request)
    return json_response([render_checkout(item, sandbox, origin, success=True) for item in found])


async def get_checkout(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    owner = authorized(request, sandbox)
    if owner is None:
        return unauthorized()
    try:
        checkout = sandbox.ledger.get(request.path_params["checkout_id"], owner)
    except LedgerError:
        return error(404, "NOT_FOUND", "Resource not found")
    return json_response(render_checkout(checkout, sandbox, sandbox.origin(request), success=True))


async def get_transaction(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    owner = authorized(request, sandbox)
    if owner is None:
        return unauthorized()
    transaction_id = request.query_params.get("id")
    if not transaction_id:  # only `id` is taken here; SumUp declares no 400 for this
        return error(404, "NOT_FOUND", "Resource not found")
    try:
        found = sandbox.ledger.transaction(
            request.path_params["merchant_code"], transaction_id, owner
        )
    except LedgerError:
        return error(404, "NOT_FOUND", "Resource not found")
    return json_response(render_transaction_full(found))


async def refund_transaction(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    owner = authorized(request, sandbox)
    if owner is None:
        return unauthorized()
    merchant_code = request.path_params["merchant_code"]
    if sandbox.merchant_code is not None and merchant_code != sandbox.merchant_code:
        return problem(403, "forbidden", "Forbidden", "users is not allowed to make a refund")
    try:
        data = await _json_body(request)
    except ValueError:
        return problem(400, "bad-request", "Bad Request", "request body is not valid JSON")
    amount: Decimal | None = None
    if data is not None:
        if not isinstance(data, dict):
            return problem(400, "bad-request", "Bad Request", "request body must be an object")
        raw = data.get("amount")
        if raw is not None and not isinstance(raw, Decimal):
            return problem(400, "bad-request", "Bad Request", "amount must be a number")
        if raw is not None and raw <= 0:
            return problem(400, "bad-request", "Bad Request", "amount must be greater than zero")
        amount = raw
    try:
        sandbox.ledger.refund(merchant_code, request.path_params["transaction_id"], amount, owner)
    except LedgerError as refusal:
        if refusal.kind == "not_found":
            return problem(404, "not-found", "Not Found", "Transaction not found")
        if refusal.kind == "not_refundable":
            return problem(409, "conflict", "Conflict", refusal.message)
        if refusal.kind == "bad_amount":
            return problem(400, "bad-request", "Bad Request", refusal.message)
        left = Decimal(refusal.message)
        return problem(
            422,
            "unprocessable-entity",
            "Unprocessable Entity",
            "Refund failed.",
            errors=[
                {
                    "code": "INVALID_AMOUNT",
                    "detail": "Amount exceeds the refundable amount",
                    "reason": "amount_too_high",
                    "max_refundable_amount": _number(left),
                }
            ],
        )
    return json_response({}, 201)
