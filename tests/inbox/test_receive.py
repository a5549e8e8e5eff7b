"""The inbox as peers meet it: real signed HTTP from real servers on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.responses import Response

from actor.http_auth import SignatureAuth
from actor.signatures import Scheme, SigningKey
from inbox.models import InboxActivity
from outbox.followers import pending_followers
from tests.support.inbox_peers import Served
from tests.support.loopback import client
from tests.support.peers import RemotePeer
from tests.support.state import snapshot

PROBLEM = "application/problem+json"


def product(peer: RemotePeer, **extra: Any) -> dict[str, Any]:
    return {
        "id": peer.new_id("products"),
        "type": ["Object", "Product"],
        "name": "Sourdough loaf",
        "attributedTo": peer.actor_id,
        "price": {"type": "MonetaryAmount", "amount": "3.50", "currency": "GBP"},
        "page": {"id": f"{peer.base_url}/pages/bakery", "type": "Page", "name": "The Bakery"},
        **extra,
    }


def with_rose_context(activity: dict[str, Any]) -> dict[str, Any]:
    from vocab.contexts import outgoing_context

    return {**activity, "@context": outgoing_context()}


async def stored(served: Served) -> list[InboxActivity]:
    async with served.db.transaction() as session:
        return list(
            (await session.execute(select(InboxActivity).order_by(InboxActivity.id))).scalars()
        )


@pytest.mark.parametrize("scheme", [Scheme.CAVAGE, Scheme.RFC9421])
async def test_given_a_signed_follow_when_delivered_then_it_is_stored_before_202_and_handled_once(
    served: Served, stranger: RemotePeer, scheme: Scheme
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    answer = await stranger.deliver(served.inbox, follow, scheme=scheme)
    assert answer.status_code == 202, answer.text
    [row] = await stored(served)
    assert (row.ap_id, row.status, row.activity_type) == (follow["id"], "pending", "Follow")

    worker = served.app.state.federation.inbox_worker
    assert await worker.step() == 1
    assert await worker.step() == 0
    async with served.db.transaction() as session:
        waiting = await pending_followers(session)
    assert [(f.ap_actor_id, f.follow_ap_id) for f in waiting] == [(stranger.actor_id, follow["id"])]
    [row] = await stored(served)
    assert row.status == "done"


async def test_a_repeat_delivery_is_answered_202_and_has_no_second_effect(
    served: Served, stranger: RemotePeer
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    first = await stranger.deliver(served.shared_inbox, follow)
    second = await stranger.deliver(served.inbox, follow)
    assert (first.status_code, second.status_code) == (202, 202)
    assert len(await stored(served)) == 1


async def test_an_activity_type_we_do_not_handle_is_recorded_as_ignored(
    served: Served, stranger: RemotePeer
) -> None:
    # from a stranger whose key we hold (one we do not is dropped: test_unfetched_likes.py)
    assert await served.app.state.federation.remote.key_for(stranger.key_id) is not None
    like = stranger.activity("Like", f"{served.base_url}/actor")
    answer = await stranger.deliver(served.inbox, like)
    assert answer.status_code == 202, answer.text
    [row] = await stored(served)
    assert row.status == "ignored"


async def test_a_product_from_the_market_peer_is_accepted(
    served: Served, market: RemotePeer
) -> None:
    create = with_rose_context(market.activity("Create", product(market)))
    answer = await market.deliver(served.inbox, create)
    assert answer.status_code == 202, answer.text
    [row] = await stored(served)
    assert (row.activity_type, row.object_type) == ("Create", "Product")


async def test_a_delete_from_an_actor_that_is_gone_is_answered_202_and_stores_nothing(
    served: Served, stranger: RemotePeer
) -> None:
    stranger.app.serve("/actor", lambda _r: Response(status_code=410))
    delete = stranger.activity("Delete", stranger.actor_id)
    answer = await stranger.deliver(served.inbox, delete)
    assert answer.status_code == 202
    assert await stored(served) == []


# -- rejections: each one answers a problem, and changes nothing ---------------------------


async def expect_rejected(
    served: Served, answer: httpx.Response, status: int, says: str
) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert says in problem["detail"], problem
    assert await stored(served) == []
    return problem


async def test_a_body_over_256_kib_is_refused_413(served: Served, market: RemotePeer) -> None:
    before = await snapshot(served.db)
    big = with_rose_context(market.activity("Create", product(market, summary="x" * 300_000)))
    answer = await market.deliver(served.inbox, big)
    await expect_rejected(served, answer, 413, "256 KiB")
    assert await snapshot(served.db) == before


async def test_a_peer_may_send_more_than_a_stranger(served: Served, market: RemotePeer) -> None:
    # Over a stranger's 64 KiB: a hundred words of a thousand letters no parser minds.
    padding = ["x" * 1000] * 100
    long = with_rose_context(market.activity("Create", product(market), padding=padding))
    answer = await market.deliver(served.inbox, long)
    assert answer.status_code == 202, answer.text


async def test_a_strangers_body_over_64_kib_is_refused_before_its_key_is_fetched(
    served: Served, stranger: RemotePeer
) -> None:
    before = await snapshot(served.db, caches=True)
    fetched = len(stranger.app.requests)
    big = stranger.activity("Follow", f"{served.base_url}/actor", padding="x" * (70 * 1024))
    answer = await stranger.deliver(served.inbox, big)
    await expect_rejected(served, answer, 413, "64 KiB")
    assert await snapshot(served.db, caches=True) == before  # no key row either
    assert len(stranger.app.requests) == fetched  # nobody asked the stranger for its key
    # The same Follow of an ordinary size is taken.
    small = stranger.activity("Follow", f"{served.base_url}/actor")
    assert (await stranger.deliver(served.inbox, small)).status_code == 202


async def test_a_streamed_body_without_length_is_cut_off_at_256_kib(served: Served) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(400):
            yield b"x" * 1024

    async with client() as http:
        answer = await http.post(
            served.inbox, content=chunks(), headers={"Content-Type": "application/activity+json"}
        )
    await expect_rejected(served, answer, 413, "64 KiB")  # unsigned: a stranger's cap


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x", ""]
)
async def test_a_wrong_content_type_is_refused_415(
    served: Served, stranger: RemotePeer, content_type: str
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    answer = await stranger.deliver(served.inbox, follow, content_type=content_type)
    await expect_rejected(served, answer, 415, "application/activity+json")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "application/activity+json; charset=utf-8",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json;profile="https://www.w3.org/ns/activitystreams"',  # no space
        "application/ld+json",  # without the profile (Pleroma, PeerTube)
        "Application/LD+JSON; charset=utf-8",
        "application/json",  # what several servers post
        "application/json; charset=utf-8",
    ],
)
async def test_every_content_type_real_servers_post_is_accepted(
    served: Served, stranger: RemotePeer, content_type: str
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    answer = await stranger.deliver(served.inbox, follow, content_type=content_type)
    assert answer.status_code == 202, answer.text


async def test_an_unsigned_delivery_is_refused_401(served: Served, stranger: RemotePeer) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    async with client() as http:
        answer = await http.post(
            served.inbox, json=follow, headers={"Content-Type": "application/activity+json"}
        )
    await expect_rejected(served, answer, 401, "sign the request")
    # RFC 9421 section 5.1: the 401 says what to sign.
    assert answer.headers["accept-signature"] == (
        'sig1=("@method" "@target-uri" "content-digest");created'
    )


async def test_a_key_the_actor_does_not_list_is_refused_saying_which_it_lists(
    served: Served, stranger: RemotePeer
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    auth = SignatureAuth(
        SigningKey(f"{stranger.actor_id}#other-key", stranger.private), double_knock=False
    )
    async with client(auth=auth) as http:
        answer = await http.post(
            served.inbox,
            content=json.dumps(follow).encode(),
            headers={"Content-Type": "application/activity+json"},
        )
    problem = await expect_rejected(served, answer, 401, "does not list the key")
    assert stranger.key_id in problem["detail"]  # the one it does list
    assert "accept-signature" in answer.headers


async def test_a_signature_by_someone_else_than_the_actor_is_refused_401(
    served: Served, stranger: RemotePeer, market: RemotePeer
) -> None:
    spoofed = market.activity("Follow", f"{served.base_url}/actor")
    spoofed["id"] = stranger.new_id()
    spoofed["actor"] = stranger.actor_id
    answer = await market.deliver(served.inbox, spoofed)
    await expect_rejected(served, answer, 401, "not")


async def test_a_body_altered_after_signing_is_refused_401(
    served: Served, stranger: RemotePeer
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")

    class Tamper(httpx.Auth):
        requires_request_body = True

        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            signed = next(stranger.auth().auth_flow(request))
            signed.stream = httpx.ByteStream(signed.content.replace(b"Follow", b"Folloq"))
            yield signed

    async with client(auth=Tamper()) as http:
        answer = await http.post(
            served.inbox, json=follow, headers={"Content-Type": "application/activity+json"}
        )
    await expect_rejected(served, answer, 401, "digest")


@pytest.mark.parametrize(
    ("body", "says"),
    [(b"{not json", "not JSON"), (b"[1, 2]", "JSON object")],
)
async def test_a_body_that_is_not_a_json_object_is_refused_400(
    served: Served, stranger: RemotePeer, body: bytes, says: str
) -> None:
    answer = await stranger.deliver(served.inbox, None, body=body)
    await expect_rejected(served, answer, 400, says)


async def test_an_invalid_activity_is_refused_400_naming_the_path(
    served: Served, market: RemotePeer
) -> None:
    bad = with_rose_context(
        market.activity(
            "Create",
            product(market, price={"type": "MonetaryAmount", "amount": 3.5, "currency": "GBP"}),
        )
    )
    answer = await market.deliver(served.inbox, bad)
    await expect_rejected(served, answer, 400, "object.price.amount")


async def test_a_product_from_a_peer_that_is_not_a_market_is_refused_403(
    served: Served, stranger: RemotePeer
) -> None:
    create = with_rose_context(stranger.activity("Create", product(stranger)))
    answer = await stranger.deliver(served.inbox, create)
    await expect_rejected(served, answer, 403, "may not send Create of Product")


async def test_an_object_on_another_origin_is_refused_403(
    served: Served, market: RemotePeer, stranger: RemotePeer
) -> None:
    create = with_rose_context(market.activity("Create", product(stranger)))
    answer = await market.deliver(served.inbox, create)
    await expect_rejected(served, answer, 403, "not on its origin")


async def test_an_activity_id_on_another_origin_is_refused_403(
    served: Served, market: RemotePeer, stranger: RemotePeer
) -> None:
    follow = market.activity("Follow", f"{served.base_url}/actor")
    follow["id"] = stranger.new_id()
    answer = await market.deliver(served.inbox, follow)
    await expect_rejected(served, answer, 403, "not on the origin")


async def test_an_actor_updating_itself_is_refetched_at_next_use(
    served: Served, stranger: RemotePeer
) -> None:
    worker = served.app.state.federation.inbox_worker
    update = stranger.activity("Update", stranger.actor_document())
    assert (await stranger.deliver(served.inbox, update)).status_code == 202
    fetched = stranger.app.hits["/actor"]
    await worker.step()
    assert (await stored(served))[0].status == "done"
    stranger.rotate_key()
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    assert (await stranger.deliver(served.inbox, follow)).status_code == 202
    assert stranger.app.hits["/actor"] == fetched + 1


async def test_an_actor_deleting_itself_is_no_longer_trusted(
    served: Served, stranger: RemotePeer
) -> None:
    worker = served.app.state.federation.inbox_worker
    delete = stranger.activity("Delete", stranger.actor_id)
    assert (await stranger.deliver(served.inbox, delete)).status_code == 202
    await worker.step()
    stranger.app.serve("/actor", lambda _r: Response(status_code=410))
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    answer = await stranger.deliver(served.inbox, follow)
    assert answer.status_code == 401
    assert len(await stored(served)) == 1


async def test_an_inline_context_cannot_make_the_raw_actor_name_a_trusted_peer(
    served: Served, market: RemotePeer, stranger: RemotePeer
) -> None:
    """Found in review: the raw "actor" said the market while JSON-LD read the signer."""
    from vocab.contexts import outgoing_context

    renaming = {
        "actor": "https://example.org/ignored#x",
        "by": {"@id": "https://www.w3.org/ns/activitystreams#actor", "@type": "@id"},
    }
    spoof = {
        "@context": [*outgoing_context(), renaming],
        "id": market.new_id(),
        "type": "Create",
        "actor": market.actor_id,
        "by": stranger.actor_id,
        "object": product(market, name="SPOOFED"),
    }
    before = await snapshot(served.db)
    answer = await stranger.deliver(served.inbox, spoof)
    await expect_rejected(served, answer, 400, "actor and id must be plain IRIs")
    assert await snapshot(served.db) == before


@pytest.mark.parametrize("shape", ["embedded", "list"])
async def test_an_actor_given_as_an_object_or_a_list_is_a_clear_400_not_a_500(
    served: Served, stranger: RemotePeer, shape: str
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    follow["actor"] = {"id": stranger.actor_id} if shape == "embedded" else [stranger.actor_id]
    answer = await stranger.deliver(served.inbox, follow)
    assert answer.status_code == 400, answer.text
    assert await stored(served) == []
