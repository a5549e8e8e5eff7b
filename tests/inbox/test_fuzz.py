"""Property: whatever arrives, the inbox never answers 5xx, and a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.inbox_peers import Served
from tests.support.loopback import client
from tests.support.peers import RemotePeer
from tests.support.state import snapshot

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(["@context", "id", "type", "actor", "object", "to", "cc", "price", "items"])
activity_like = st.dictionaries(keys | st.text(max_size=8), json_values, max_size=8)
header_values = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80)


@FUZZ
@given(
    body=st.binary(max_size=2048)
    | activity_like.map(lambda d: httpx.Request("POST", "/", json=d).content),
    content_type=st.sampled_from(["application/activity+json", "application/json", "text/html", ""])
    | header_values,
    signature=header_values,
    digest=header_values,
)
async def test_unsigned_or_garbled_deliveries_never_break_anything(
    served: Served, body: bytes, content_type: str, signature: str, digest: str
) -> None:
    before = await snapshot(served.db)
    async with client() as http:
        answer = await http.post(
            served.inbox,
            content=body,
            headers={"Content-Type": content_type, "Signature": signature, "Digest": digest},
        )
    assert answer.status_code < 500
    assert answer.status_code != 202
    assert answer.headers["content-type"] == "application/problem+json"
    assert await snapshot(served.db) == before


@FUZZ
@given(document=activity_like)
async def test_signed_but_arbitrary_documents_are_refused_cleanly_or_stored_once(
    served: Served, stranger: RemotePeer, document: dict[str, Any]
) -> None:
    before = await snapshot(served.db)
    answer = await stranger.deliver(served.inbox, document)
    assert answer.status_code < 500
    if answer.status_code != 202:
        assert answer.headers["content-type"] == "application/problem+json"
        assert await snapshot(served.db) == before
