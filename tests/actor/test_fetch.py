"""Fetching remote AS2 documents from a real loopback peer: what we accept and what we refuse.

127.0.0.1 is not a public address, so these fetchers run with allow_private=True;
test_guard.py shows the same fetch refused with the guard on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from actor.exceptions import (
    DocumentTooLarge,
    FetchFailed,
    IdMismatch,
    NotActivityStreams,
    RedirectLoop,
    TooManyRedirects,
)
from actor.fetch import MAX_BYTES, Fetched, Fetcher, FetchSettings, Gone, is_activity_streams
from actor.identity import software_version, user_agent
from tests.actor.loopback import Peer, running_peer


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer() as running:
        yield running


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    fetching = Fetcher(FetchSettings(allow_private=True))
    yield fetching
    await fetching.aclose()


def redirect(to: str, status: int = 302):  # type: ignore[no-untyped-def]
    return lambda _request: RedirectResponse(to, status_code=status)


async def test_an_actor_is_fetched_with_an_as2_accept_header(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve_json("/actor", {"id": peer.url("/actor"), "type": "Service"})
    result = await fetcher.fetch(peer.url("/actor"))
    assert result == Fetched(peer.url("/actor"), {"id": peer.url("/actor"), "type": "Service"})
    assert "application/activity+json" in peer.requests[0].headers["accept"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "application/activity+json; charset=utf-8",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        'Application/LD+JSON;profile="https://example.org/other https://www.w3.org/ns/activitystreams"',
    ],
)
def test_as2_content_types_are_recognised(content_type: str) -> None:
    assert is_activity_streams(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "text/html",
        "application/ld+json",
        'application/ld+json; profile="x"',
    ],
)
def test_other_content_types_are_not_as2(content_type: str | None) -> None:
    assert not is_activity_streams(content_type)


async def test_a_json_answer_that_is_not_as2_is_refused(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve_json("/actor", {"id": peer.url("/actor")}, content_type="application/json")
    with pytest.raises(NotActivityStreams, match="application/json"):
        await fetcher.fetch(peer.url("/actor"))


async def test_a_document_whose_id_is_not_its_url_is_refused(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve_json("/actor", {"id": "https://victim.example/actor", "type": "Person"})
    with pytest.raises(IdMismatch, match="victim.example"):
        await fetcher.fetch(peer.url("/actor"))


async def test_after_a_redirect_the_id_must_be_the_final_url(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve("/@alice", redirect(peer.url("/users/alice")))
    peer.serve_json("/users/alice", {"id": peer.url("/users/alice"), "type": "Person"})
    result = await fetcher.fetch(peer.url("/@alice"))
    assert isinstance(result, Fetched) and result.url == peer.url("/users/alice")

    # A document claiming the URL we started from, served from elsewhere, is not that document.
    peer.serve("/old", redirect(peer.url("/new"), status=301))
    peer.serve_json("/new", {"id": peer.url("/old"), "type": "Person"})
    with pytest.raises(IdMismatch):
        await fetcher.fetch(peer.url("/old"))


async def test_three_redirects_are_followed_and_a_fourth_is_refused(
    peer: Peer, fetcher: Fetcher
) -> None:
    for n in range(1, 5):
        peer.serve(f"/r{n}", redirect(f"/r{n + 1}", status=307))
    peer.serve_json("/r5", {"id": peer.url("/r5")})
    # r2 -> r3 -> r4 -> r5: three redirects.
    result = await fetcher.fetch(peer.url("/r2"))
    assert isinstance(result, Fetched) and result.url == peer.url("/r5")
    with pytest.raises(TooManyRedirects, match="more than 3"):
        await fetcher.fetch(peer.url("/r1"))
    assert peer.hits["/r5"] == 1


async def test_a_redirect_loop_is_refused_without_going_round(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve("/a", redirect("/b"))
    peer.serve("/b", redirect("/a"))
    with pytest.raises(RedirectLoop):
        await fetcher.fetch(peer.url("/a"))
    assert peer.hits == {"/a": 1, "/b": 1}


@pytest.mark.parametrize("status", [404, 410])
async def test_a_missing_or_deleted_document_is_gone_not_an_error(
    peer: Peer, fetcher: Fetcher, status: int
) -> None:
    peer.serve("/actor", lambda _r: Response(status_code=status))
    assert await fetcher.fetch(peer.url("/actor")) == Gone(peer.url("/actor"), status)


async def test_a_server_error_is_a_failure_with_its_status(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve("/actor", lambda _r: Response(status_code=503))
    with pytest.raises(FetchFailed) as raised:
        await fetcher.fetch(peer.url("/actor"))
    assert raised.value.status == 503


async def test_an_oversize_document_streamed_without_a_length_is_abandoned(
    peer: Peer, fetcher: Fetcher
) -> None:
    def endless(_request: Request) -> StreamingResponse:
        def chunks() -> Generator[bytes, None, None]:
            yield b'{"id": "x", "padding": "'
            for _ in range(64):  # 4 MiB on offer
                yield b"a" * 65536

        return StreamingResponse(chunks(), media_type="application/activity+json")

    peer.serve("/big", endless)
    with pytest.raises(DocumentTooLarge, match=str(MAX_BYTES)):
        await fetcher.fetch(peer.url("/big"))


async def test_an_oversize_document_with_a_declared_length_is_refused(
    peer: Peer, fetcher: Fetcher
) -> None:
    body = b'{"id": "x", "padding": "' + b"a" * MAX_BYTES + b'"}'
    peer.serve("/big", lambda _r: Response(body, media_type="application/activity+json"))
    with pytest.raises(DocumentTooLarge):
        await fetcher.fetch(peer.url("/big"))


async def test_a_document_just_under_the_cap_is_accepted(peer: Peer, fetcher: Fetcher) -> None:
    head = b'{"id": "' + peer.url("/doc").encode() + b'", "padding": "'
    body = head + b"a" * (MAX_BYTES - len(head) - 2) + b'"}'
    assert len(body) == MAX_BYTES
    peer.serve("/doc", lambda _r: Response(body, media_type="application/activity+json"))
    assert isinstance(await fetcher.fetch(peer.url("/doc")), Fetched)


async def test_not_json_and_not_an_object_are_failures(peer: Peer, fetcher: Fetcher) -> None:
    peer.serve("/html", lambda _r: Response(b"<html>", media_type="application/activity+json"))
    peer.serve("/list", lambda _r: Response(b"[1, 2]", media_type="application/activity+json"))
    with pytest.raises(FetchFailed, match="valid JSON"):
        await fetcher.fetch(peer.url("/html"))
    with pytest.raises(FetchFailed, match="JSON object"):
        await fetcher.fetch(peer.url("/list"))


async def test_a_document_holding_a_nul_is_a_failure(peer: Peer, fetcher: Fetcher) -> None:
    # PostgreSQL cannot keep such a document; the text "\\u0000" (escaped) is kept.
    peer.serve_json("/nul", {"id": peer.url("/nul"), "name": "a\x00b"})
    peer.serve_json("/text", {"id": peer.url("/text"), "name": "writes \\u0000 in C"})
    with pytest.raises(FetchFailed, match="NUL"):
        await fetcher.fetch(peer.url("/nul"))
    fetched = await fetcher.fetch(peer.url("/text"))
    assert isinstance(fetched, Fetched) and fetched.document["name"] == "writes \\u0000 in C"


class _Stamp(httpx.Auth):
    """Stands in for the signing auth: marks each request it signs."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Signature"] = f"signed {request.url.path}"
        yield request


async def test_an_injected_auth_signs_every_hop(peer: Peer) -> None:
    peer.serve("/@alice", redirect("/users/alice"))
    peer.serve_json("/users/alice", {"id": peer.url("/users/alice")})
    fetcher = Fetcher(FetchSettings(allow_private=True), auth=_Stamp())
    try:
        await fetcher.fetch(peer.url("/@alice"))
    finally:
        await fetcher.aclose()
    assert [r.headers.get("signature") for r in peer.requests] == [
        "signed /@alice",
        "signed /users/alice",
    ]


async def test_a_peer_that_trickles_forever_is_cut_off_by_the_overall_deadline(peer: Peer) -> None:
    # Each piece arrives well within the read timeout; only the total deadline ends it.
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"id": "x", "padding": "'
        for _ in range(400):
            await asyncio.sleep(0.05)
            yield b"a"

    peer.serve(
        "/slow", lambda _r: StreamingResponse(trickle(), media_type="application/activity+json")
    )
    fetcher = Fetcher(FetchSettings(allow_private=True, total_seconds=0.3))
    try:
        with pytest.raises(FetchFailed, match="took longer than 0.3 s"):
            await fetcher.fetch(peer.url("/slow"))
    finally:
        await fetcher.aclose()


async def test_an_unreachable_peer_is_a_failure(fetcher: Fetcher) -> None:
    async with running_peer() as gone_peer:
        url = gone_peer.url("/actor")
    with pytest.raises(FetchFailed, match="failed"):
        await fetcher.fetch(url)


async def test_we_name_ourselves_with_product_version_and_our_url(peer: Peer) -> None:
    seen: list[str] = []

    def record(request: Request) -> Response:
        seen.append(request.headers["user-agent"])
        return Response(status_code=410)

    peer.serve("/who", record)
    default, ours = (
        Fetcher(FetchSettings(allow_private=True)),
        Fetcher(FetchSettings(allow_private=True, user_agent=user_agent("https://cart.example"))),
    )
    try:
        for fetching in (default, ours):
            assert isinstance(await fetching.fetch(peer.url("/who")), Gone)
    finally:
        await default.aclose()
        await ours.aclose()
    version = software_version()
    assert seen == [f"rose-cart/{version}", f"rose-cart/{version} (+https://cart.example/)"]
