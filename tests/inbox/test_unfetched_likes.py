"""A Like from a stranger whose key we do not hold is answered 202 and dropped unfetched.

Issue 14: a sender minting actors made us fetch a fresh key for each Like (a signed GET,
a row, a verification), several catalogue pages' worth of CPU, to keep one line of log.
An activity we never act on, signed with a key we do not hold, from an actor that is not
a peer, is now acknowledged and dropped: nothing fetched, nothing stored, counted on
/metrics. From a stranger whose key we hold it is still verified and recorded small, and
an activity we act on (a Follow) still makes us fetch the key. Over real HTTP: the
signer's server counts what we ask it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inbox.models import InboxActivity, InboxStatus
from tests.support import loopback
from tests.support.inbox_peers import Served
from tests.support.minting import deliver_as, like_from, minted_actor
from tests.support.peers import RemotePeer
from tests.support.state import snapshot


@pytest.fixture
def over_the_network() -> bool:
    return True  # as a stranger sends them: over real HTTP to uvicorn


async def dropped(served: Served) -> str:
    async with loopback.client() as client:
        metrics = (await client.get(f"{served.base_url}/metrics")).text
    (line,) = [x for x in metrics.splitlines() if x.startswith("rose_cart_inbox_dropped_total ")]
    return line.rsplit(" ", 1)[1]


async def test_a_like_from_a_minted_actor_is_acknowledged_unfetched_and_unstored(
    served: Served, stranger: RemotePeer
) -> None:
    before = await snapshot(served.db)
    actor_id = minted_actor(stranger, 1)
    like = like_from(stranger, actor_id, f"{served.base_url}/actor")

    answer = await deliver_as(stranger, actor_id, served.inbox, like)

    assert answer.status_code == 202, answer.text
    assert stranger.app.hits.get("/actors/1", 0) == 0  # its key was never asked for
    assert await snapshot(served.db) == before  # no actor row, no inbox record
    assert await dropped(served) == "1"


async def test_an_announce_of_a_note_is_dropped_too_but_a_follow_still_fetches_the_key(
    served: Served, stranger: RemotePeer
) -> None:
    actor_id = minted_actor(stranger, 2)
    announce = like_from(stranger, actor_id, f"{served.base_url}/actor") | {"type": "Announce"}
    assert (await deliver_as(stranger, actor_id, served.inbox, announce)).status_code == 202
    assert stranger.app.hits.get("/actors/2", 0) == 0

    follow = {**announce, "id": stranger.new_id("follows"), "type": "Follow"}
    assert (await deliver_as(stranger, actor_id, served.inbox, follow)).status_code == 202
    assert stranger.app.hits["/actors/2"] == 1  # acted on: verified, so fetched


async def test_a_like_from_a_stranger_whose_key_we_hold_is_verified_and_recorded(
    served: Served, stranger: RemotePeer
) -> None:
    actor_id = minted_actor(stranger, 3)
    assert await served.app.state.federation.remote.key_for(f"{actor_id}#main-key") is not None
    like = like_from(stranger, actor_id, f"{served.base_url}/actor")

    answer = await deliver_as(stranger, actor_id, served.inbox, like)

    assert answer.status_code == 202, answer.text
    async with served.db.transaction() as session:
        rows = list((await session.execute(select(InboxActivity))).scalars())
    assert [(row.ap_actor_id, row.status) for row in rows] == [(actor_id, InboxStatus.IGNORED)]
    assert await dropped(served) == "0"
    # A forged Like under a key we hold is still refused: only unknown keys go unchecked.
    forged = like_from(stranger, actor_id, f"{served.base_url}/actor")
    stranger.rotate_key()
    assert (await deliver_as(stranger, actor_id, served.inbox, forged)).status_code == 401
