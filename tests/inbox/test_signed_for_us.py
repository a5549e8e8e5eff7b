"""A signature binds a request to this server: one made for another host is not ours.

The replay these guard against: a delivery a peer signed for another co-op instance,
copied to our inbox within the hour, verified here because nothing compared its Host
with BASE_URL. Over real HTTP; the signing peer counts the key fetches it is asked for.
"""

from __future__ import annotations

import json

import httpx
import pytest

from actor.signatures import Message, Scheme, SigningKey, sign_request
from tests.support.inbox_peers import Served
from tests.support.loopback import client
from tests.support.peers import AS2, RemotePeer
from tests.support.state import snapshot


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


def problem_of(answer: httpx.Response, status: int, reason: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, object] = answer.json()
    assert str(problem["type"]).endswith(reason), problem
    return problem


@pytest.mark.parametrize("scheme", list(Scheme))
async def test_a_delivery_signed_for_another_instance_is_refused_and_stores_nothing(
    served: Served, stranger: RemotePeer, scheme: Scheme
) -> None:
    before = await snapshot(served.db, caches=True)
    follow = stranger.activity("Follow", f"{served.base_url}/actor")

    # What another instance received, replayed to us: the Host it was signed for goes along.
    answer = await stranger.deliver(
        served.inbox, follow, scheme=scheme, headers={"Host": "coop-b.example"}
    )

    problem = problem_of(answer, 401, "wrong-host")
    assert "coop-b.example" in str(problem["detail"])
    assert await snapshot(served.db, caches=True) == before
    assert stranger.app.hits["/actor"] == 0  # refused before any key was looked up


async def test_the_same_delivery_signed_for_us_is_accepted(
    served: Served, stranger: RemotePeer
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    answer = await stranger.deliver(served.inbox, follow)
    assert answer.status_code == 202, answer.text


async def test_a_post_whose_signature_leaves_out_the_host_is_refused(
    served: Served, stranger: RemotePeer
) -> None:
    before = await snapshot(served.db, caches=True)
    body = json.dumps(stranger.activity("Follow", f"{served.base_url}/actor")).encode()
    message = Message.of("POST", served.inbox, {"Content-Type": AS2}, body)
    added = sign_request(
        message,
        SigningKey(stranger.key_id, stranger.private),
        covered=("(request-target)", "date", "digest"),
    )
    async with client(timeout=10) as http:
        answer = await http.post(served.inbox, content=body, headers={"Content-Type": AS2, **added})

    problem = problem_of(answer, 401, "host-unsigned")
    assert "host" in str(problem["detail"])
    assert await snapshot(served.db, caches=True) == before
    assert stranger.app.hits["/actor"] == 0


async def test_a_signed_get_made_for_another_host_is_refused(
    served: Served, stranger: RemotePeer
) -> None:
    async with client(auth=stranger.auth(), timeout=10) as http:
        answer = await http.get(
            f"{served.base_url}/actor/outbox?page=true",
            headers={"Accept": AS2, "Host": "coop-b.example"},
        )
    assert answer.status_code == 401, answer.text
    assert "coop-b.example" in answer.text
    assert stranger.app.hits["/actor"] == 0
