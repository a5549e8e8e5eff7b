"""Every error has one shape: RFC 9457 problem+json for programs, a page for people."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from inbox.exceptions import Rejected
from tests.support.settings import SQLITE_ONLY

# Error shapes are the same on both engines.
pytestmark = SQLITE_ONLY


async def test_the_problem_json_shape_is_pinned(client: httpx.AsyncClient) -> None:
    answer = await client.get(
        "/no/such/page", headers={"Accept": "application/json", "X-Request-ID": "abc-123"}
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/no/such/page",
        "request_id": "abc-123",
    }
    assert answer.headers["x-request-id"] == "abc-123"


async def test_a_browser_gets_an_html_error_page_with_the_same_facts(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in answer.text


async def test_an_unhandled_error_is_a_500_problem_that_reveals_no_internals(
    app: Starlette, settings
) -> None:  # type: ignore[no-untyped-def]
    async def explode(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")

    app.router.routes.append(Route("/explode", explode))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
        answer = await http.get("/explode")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "secret internal detail" not in answer.text
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
    # The edge wrapper is outermost: even the 500 carries the security headers.
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_an_inbox_post_answers_its_refusals_and_failures_in_the_same_shapes(
    app: Starlette, settings
) -> None:  # type: ignore[no-untyped-def]
    # Inbox POSTs skip the router (service.middleware.InboxLane): a refusal is still a
    # problem of its type, and anything unexpected still a 500 that reveals nothing.
    async def refuse(request):  # type: ignore[no-untyped-def]
        raise Rejected(415, "unsupported-media-type", "send application/activity+json")

    async def explode(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
        app.state.inbox_receiver = refuse
        refused = await http.post("/inbox", content=b"{}")
        app.state.inbox_receiver = explode
        failed = await http.post("/actor/inbox", content=b"{}")
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("unsupported-media-type")
    assert refused.json()["detail"] == "send application/activity+json"
    assert failed.status_code == 500
    assert "secret internal detail" not in failed.text
    assert failed.json()["request_id"] == failed.headers["x-request-id"]
    assert failed.headers["x-content-type-options"] == "nosniff"


async def test_a_hostile_request_id_is_replaced_not_echoed(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert "<" not in answer.headers["x-request-id"]


async def test_requests_without_an_id_each_get_a_different_one(client: httpx.AsyncClient) -> None:
    ids = [(await client.get("/healthz")).headers["x-request-id"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


async def test_security_headers_are_on_every_response(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
