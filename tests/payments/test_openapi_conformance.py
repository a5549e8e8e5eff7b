"""The sandbox, checked against SumUp's published OpenAPI description of the endpoints.

Every response the sandbox gives for an endpoint we use must be declared for that
operation and status, with that media type, and validate against its response schema
(``$ref``s resolved, OpenAPI 3.0 ``nullable`` mapped to JSON Schema). The client's create
request is checked against ``CheckoutCreateRequest`` the same way.

The description lives beside the checkout at ../shared/reference (relative to the repo
root); without it these tests skip and say where they looked.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from payments.sumup import SUMUP_CURRENCIES, SumUpClient
from tests.payments.support import API_KEY, MERCHANT, SandboxHarness, press

jsonschema = pytest.importorskip("jsonschema", reason="the OpenAPI check needs jsonschema")
referencing = pytest.importorskip("referencing")
from referencing.jsonschema import DRAFT202012  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT.parent / "shared" / "reference" / "sumup-checkouts.openapi.json"
BASE = "urn:sumup-openapi"

pytestmark = pytest.mark.skipif(
    not SPEC_PATH.is_file(), reason=f"SumUp's OpenAPI description not found at {SPEC_PATH}"
)


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema 2020-12: nullable, and absolute $refs."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_json_schema(value) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = BASE + ref
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return loaded


@pytest.fixture(scope="module")
def registry(spec: dict[str, Any]) -> Any:
    resource = referencing.Resource.from_contents(
        as_json_schema(spec), default_specification=DRAFT202012
    )
    return referencing.Registry().with_resource(BASE, resource)


# The formats the description uses for values we send or answer, checked without extra
# packages (jsonschema skips date-time and uri unless optional validators are installed).
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return "T" in value and datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")  # type: ignore[untyped-decorator]
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def validator(schema: dict[str, Any], registry: Any) -> Any:
    cls = jsonschema.Draft202012Validator
    return cls(as_json_schema(schema), registry=registry, format_checker=FORMATS)


def check(spec: dict[str, Any], registry: Any, template: str, response: httpx.Response) -> None:
    method = response.request.method.lower()
    operation = spec["paths"][template][method]
    declared = operation["responses"].get(str(response.status_code))
    assert declared, f"{method.upper()} {template} never answers {response.status_code}"
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type in declared["content"], (template, response.status_code, media_type)
    schema = declared["content"][media_type]["schema"]
    errors = list(validator(schema, registry).iter_errors(response.json()))
    assert not errors, f"{method.upper()} {template} {response.status_code}: {errors[0]}"


def example(spec: dict[str, Any], template: str, method: str, status: int, name: str) -> Any:
    content = spec["paths"][template][method]["responses"][str(status)]["content"]
    return next(iter(content.values()))["examples"][name]["value"]


def test_the_checker_itself_rejects_what_the_schema_forbids(
    spec: dict[str, Any], registry: Any
) -> None:
    checkout = validator({"$ref": "#/components/schemas/CheckoutSuccess"}, registry)
    assert not list(checkout.iter_errors({"id": "x", "status": "PAID", "amount": 1}))
    assert list(checkout.iter_errors({"status": "DONE"}))
    assert list(checkout.iter_errors({"amount": "10.10"}))
    assert list(checkout.iter_errors({"transactions": [{"status": "PAID"}]}))
    assert not list(checkout.iter_errors({"valid_until": None}))  # nullable
    assert list(checkout.iter_errors({"date": "29/02/2020 10:56"}))
    assert list(checkout.iter_errors({"return_url": "no scheme"}))


def test_we_take_the_currencies_sumup_lists(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["schemas"]["Currency"]["enum"]) == SUMUP_CURRENCIES


async def test_every_sandbox_answer_matches_the_published_description(
    spec: dict[str, Any], registry: Any, harness: SandboxHarness
) -> None:
    api = harness.origin
    auth = {"Authorization": f"Bearer {API_KEY}"}
    http = harness.browser
    checked: list[tuple[str, str, int]] = []

    def seen(template: str, response: httpx.Response) -> httpx.Response:
        check(spec, registry, template, response)
        checked.append((response.request.method, template, response.status_code))
        return response

    def create_body(**changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "checkout_reference": str(uuid.uuid4()),
            "amount": 12,
            "currency": "EUR",
            "merchant_code": MERCHANT,
            "description": "A sample checkout",
            "return_url": harness.receiver.url,
            "redirect_url": "https://cart.test/return",
            "valid_until": (harness.clock.now + timedelta(minutes=30)).isoformat(),
            "hosted_checkout": {"enabled": True},
        }
        body.update(changes)
        return {key: value for key, value in body.items() if value is not ...}

    checkouts, one, refunds, transactions = (
        "/v0.1/checkouts",
        "/v0.1/checkouts/{checkout_id}",
        "/v1.0/merchants/{merchant_code}/payments/{transaction_id}/refunds",
        "/v2.1/merchants/{merchant_code}/transactions",
    )
    created = seen(
        checkouts, await http.post(f"{api}/v0.1/checkouts", json=create_body(), headers=auth)
    )
    assert created.status_code == 201
    bare = create_body(description=..., return_url=..., redirect_url=..., valid_until=...)
    bare.pop("hosted_checkout")
    seen(checkouts, await http.post(f"{api}/v0.1/checkouts", json=bare, headers=auth))
    missing = seen(
        checkouts,
        await http.post(f"{api}/v0.1/checkouts", json=create_body(merchant_code=...), headers=auth),
    )
    assert missing.json() == example(spec, checkouts, "post", 400, "Missing_Parameter")
    seen(checkouts, await http.post(f"{api}/v0.1/checkouts", json=create_body()))
    forbidden = seen(
        checkouts,
        await http.post(
            f"{api}/v0.1/checkouts", json=create_body(merchant_code="MX"), headers=auth
        ),
    )
    assert forbidden.json() == example(spec, checkouts, "post", 403, "Forbidden")
    duplicate = create_body(checkout_reference=created.json()["checkout_reference"])
    dup = seen(checkouts, await http.post(f"{api}/v0.1/checkouts", json=duplicate, headers=auth))
    assert dup.json()["error_code"] == "DUPLICATED_CHECKOUT"

    checkout = created.json()
    seen(one, await http.get(f"{api}/v0.1/checkouts/{checkout['id']}", headers=auth))  # PENDING
    await press(http, checkout["hosted_checkout_url"], "decline")
    seen(one, await http.get(f"{api}/v0.1/checkouts/{checkout['id']}", headers=auth))  # FAILED
    await press(http, checkout["hosted_checkout_url"], "pay")
    paid = seen(one, await http.get(f"{api}/v0.1/checkouts/{checkout['id']}", headers=auth))
    assert paid.json()["status"] == "PAID" and paid.json()["transaction_id"]
    listed = seen(
        checkouts,
        await http.get(
            f"{api}/v0.1/checkouts",
            params={"checkout_reference": checkout["checkout_reference"]},
            headers=auth,
        ),
    )
    assert [item["id"] for item in listed.json()] == [checkout["id"]]
    seen(checkouts, await http.get(f"{api}/v0.1/checkouts"))  # 401
    seen(one, await http.get(f"{api}/v0.1/checkouts/{checkout['id']}"))  # 401
    not_found = seen(one, await http.get(f"{api}/v0.1/checkouts/nope", headers=auth))
    assert not_found.json() == example(spec, one, "get", 404, "Not_Found")

    expiring = create_body(valid_until=(harness.clock.now + timedelta(minutes=1)).isoformat())
    soon = (await http.post(f"{api}/v0.1/checkouts", json=expiring, headers=auth)).json()
    harness.clock.advance(timedelta(minutes=2))
    gone = seen(one, await http.get(f"{api}/v0.1/checkouts/{soon['id']}", headers=auth))
    assert gone.json()["status"] == "EXPIRED"

    transaction = paid.json()["transaction_id"]
    refund_url = f"{api}/v1.0/merchants/{MERCHANT}/payments/{transaction}/refunds"
    seen(refunds, await http.post(refund_url, json={"amount": 0}, headers=auth))  # 400
    seen(refunds, await http.post(refund_url.replace(MERCHANT, "MX"), json={}, headers=auth))
    seen(refunds, await http.post(refund_url.replace(transaction, "nope"), headers=auth))  # 404
    seen(refunds, await http.post(refund_url, json={"amount": 13}, headers=auth))  # 422
    seen(refunds, await http.post(refund_url, json={"amount": 2}, headers=auth))  # 201
    seen(refunds, await http.post(refund_url, headers=auth))  # 201, the rest
    seen(refunds, await http.post(refund_url, headers=auth))  # 409
    refunded = seen(one, await http.get(f"{api}/v0.1/checkouts/{checkout['id']}", headers=auth))
    assert [t["status"] for t in refunded.json()["transactions"]] == ["FAILED", "REFUNDED"]
    lookup = f"{api}/v2.1/merchants/{MERCHANT}/transactions"
    full = seen(transactions, await http.get(lookup, params={"id": transaction}, headers=auth))
    events = full.json()["transaction_events"]
    assert [(e["event_type"], e["amount"]) for e in events] == [("REFUND", 2), ("REFUND", 10)]
    seen(transactions, await http.get(lookup, params={"id": transaction}))  # 401
    seen(transactions, await http.get(lookup, params={"id": "nope"}, headers=auth))  # 404

    # Every status the description declares for these operations was exercised.
    for template in (checkouts, one, refunds, transactions):
        for method, operation in spec["paths"][template].items():
            if method not in ("get", "post"):
                continue
            declared = {int(status) for status in operation["responses"]}
            answered = {s for m, t, s in checked if t == template and m.lower() == method}
            assert declared <= answered, (method, template, declared - answered)


async def test_the_clients_create_request_matches_checkout_create_request(
    spec: dict[str, Any], registry: Any
) -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(
            201,
            json={
                "id": "c1",
                "checkout_reference": "r1",
                "amount": 1.5,
                "currency": "EUR",
                "status": "PENDING",
            },
        )

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = SumUpClient(api_key="k", merchant_code=MERCHANT, http=http)
    await client.create_checkout(
        reference="r1",
        amount=Decimal("1.50"),
        currency="EUR",
        description="d",
        return_url="https://cart.test/hook",
        redirect_url="https://cart.test/back",
        valid_until=datetime.now(UTC) + timedelta(minutes=30),
    )
    operation = spec["paths"]["/v0.1/checkouts"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    errors = list(validator(schema, registry).iter_errors(bodies[0]))
    assert not errors, errors[0]
    assert set(bodies[0]) <= set(
        spec["components"]["schemas"]["CheckoutCreateRequest"]["properties"]
    )
