"""The outbox, followers and following collections, and activities at their ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from actor.signatures import Scheme
from actor.verification import Reason, Rejected, VerificationResult, Verified
from outbox.collections import PAGE_SIZE, outbox_routes
from outbox.publish import publish
from outbox.states import FollowerState
from store import Database
from tests.outbox.support import add_follower, create_note, local_actor

ACTOR = local_actor()
FOLLOWER = "https://coop.test/actor"
MARKET = "https://market.test/actor"
STRANGER = "https://stranger.test/actor"


async def fake_verifier(request: Request) -> VerificationResult:
    """Signature checking is tested in actor/; here the test names the signer."""
    signer = request.headers.get("x-test-signer")
    if signer is None:
        return Rejected(Reason.BAD_SIGNATURE, "bad")
    return Verified(
        key_id=f"{signer}#key", owner=signer, scheme=Scheme.CAVAGE, algorithm=None, covered=()
    )


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=outbox_routes())
    app.state.actor, app.state.db, app.state.signed_get_verifier = ACTOR, db, fake_verifier
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=ACTOR.base_url
    ) as http:
        yield http


def signed_by(actor: str) -> dict[str, str]:
    return {"Signature": 'keyId="x"', "X-Test-Signer": actor}


async def seed(db: Database, count: int) -> None:
    await add_follower(db, FOLLOWER, "https://coop.test/inbox")
    await add_follower(
        db, "https://other.test/actor", "https://other.test/inbox", state=FollowerState.PENDING
    )
    async with db.transaction() as session:
        for number in range(count):
            await publish(session, create_note(ACTOR, number, cc=(MARKET,) if number == 0 else ()))


async def test_everyone_sees_the_counts_but_no_members(
    db: Database, client: httpx.AsyncClient
) -> None:
    await seed(db, 3)
    outbox = (await client.get("/actor/outbox")).json()
    # Nothing we publish is public: an anonymous viewer is told of none of it.
    assert (outbox["type"], outbox["totalItems"], outbox["id"]) == (
        "OrderedCollection",
        0,
        ACTOR.outbox,
    )
    # A follower counts what reaches followers; the market also the one order it is in.
    follower = (await client.get("/actor/outbox", headers=signed_by(FOLLOWER))).json()
    assert follower["totalItems"] == 3
    market = (await client.get("/actor/outbox", headers=signed_by(MARKET))).json()
    assert market["totalItems"] == 1
    followers = (await client.get("/followers")).json()
    assert (
        followers["totalItems"] == 1 and "orderedItems" not in followers
    )  # pending ones do not count
    assert followers["first"] == f"{ACTOR.followers}?page=1"
    assert (await client.get("/following")).json()["totalItems"] == 0
    page = (await client.get("/actor/outbox?page=true")).json()
    assert page["orderedItems"] == []  # nothing we publish is public


async def test_a_follower_pages_through_the_outbox_newest_first(
    db: Database, client: httpx.AsyncClient
) -> None:
    await seed(db, PAGE_SIZE + 5)
    first = (await client.get("/actor/outbox?page=true", headers=signed_by(FOLLOWER))).json()
    ids = [item["id"] for item in first["orderedItems"]]
    assert ids == [create_note(ACTOR, n)["id"] for n in range(PAGE_SIZE + 4, 4, -1)]
    second = (
        await client.get(first["next"].removeprefix(ACTOR.base_url), headers=signed_by(FOLLOWER))
    ).json()
    assert [item["id"] for item in second["orderedItems"]] == [
        create_note(ACTOR, n)["id"] for n in range(4, -1, -1)
    ]
    assert "next" not in second


async def test_an_activity_dereferences_to_its_audience_only(
    db: Database, client: httpx.AsyncClient
) -> None:
    await seed(db, 2)
    path = create_note(ACTOR, 0)["id"].removeprefix(ACTOR.base_url)
    for viewer in (FOLLOWER, MARKET):
        response = await client.get(path, headers=signed_by(viewer))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/activity+json"
        assert orjson.loads(response.content) == create_note(ACTOR, 0, cc=(MARKET,))
    unsigned = await client.get(path)
    assert unsigned.status_code == 401
    assert unsigned.headers["accept-signature"] == 'sig1=("@method" "@target-uri");created'
    assert (await client.get(path, headers=signed_by(STRANGER))).status_code == 404
    other = create_note(ACTOR, 1)["id"].removeprefix(ACTOR.base_url)
    assert (await client.get(other, headers=signed_by(MARKET))).status_code == 404  # not addressed


async def test_followers_and_peers_see_the_members_strangers_do_not(
    db: Database, client: httpx.AsyncClient
) -> None:
    await seed(db, 0)
    # The first page we advertise answers everyone; only members see the members.
    for headers in ({}, signed_by(STRANGER)):
        answer = await client.get("/followers?page=1", headers=headers)
        assert answer.status_code == 200
        assert (answer.json()["orderedItems"], answer.json()["totalItems"]) == ([], 1)
    page = (await client.get("/followers?page=1", headers=signed_by(FOLLOWER))).json()
    assert page["orderedItems"] == [FOLLOWER]  # the pending request is not a member
    assert page["totalItems"] == 1 and page["partOf"] == ACTOR.followers
    client._transport.app.state.peer_iris = frozenset({MARKET})  # type: ignore[attr-defined]
    following = (await client.get("/following?page=1", headers=signed_by(MARKET))).json()
    assert following["orderedItems"] == []


@pytest.mark.parametrize("page", ["0", "abc", "-1", "999999999"])
async def test_a_bad_page_number_is_a_400(
    db: Database, client: httpx.AsyncClient, page: str
) -> None:
    answer = await client.get(f"/followers?page={page}", headers=signed_by(FOLLOWER))
    assert answer.status_code == 400
