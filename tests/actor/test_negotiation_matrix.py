"""Content negotiation as the servers and clients that exist ask, resource by resource.

WebFinger and NodeInfo are only ever JSON: they answer it to every Accept (RFC 7033
section 4.2: a client asking for text/html or nothing at all still gets the JRD). The
actor answers AS2 to every JSON-ish Accept, HTML to browsers, and 406 to nothing it
has. The inbox's content types are in tests/inbox/test_receive.py (they need signing).
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.shared_app import SHARED_APP

# Every test only reads: one app for the module (tests/support/shared_app.py).
pytestmark = SHARED_APP

AS2 = "application/activity+json"
LD_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
WEBFINGER = "/.well-known/webfinger?resource=acct:cart@cart.test"

# (Accept header as sent, who sends it that way)
ANYTHING = [
    (None, "curl without -H, Pleroma's WebFinger"),
    ("*/*", "most HTTP libraries"),
    ("application/jrd+json", "Mastodon's WebFinger"),
    ("application/json", "Misskey, GoToSocial"),
    ("application/jrd+json, application/json", "Fedify"),
    ("text/html", "a browser following a link"),
    (BROWSER, "a browser"),
    ("application/xml", "an old XRD client"),
    ("image/png", "nonsense"),
]


def ids(cases: list[tuple[str | None, str]]) -> list[str]:
    return [who for _, who in cases]


def headers(accept: str | None) -> dict[str, str]:
    return {} if accept is None else {"Accept": accept}


@pytest.mark.parametrize(("accept", "who"), ANYTHING, ids=ids(ANYTHING))
async def test_webfinger_answers_the_jrd_to_every_accept(
    shared_client: httpx.AsyncClient, accept: str | None, who: str
) -> None:
    answer = await shared_client.get(WEBFINGER, headers=headers(accept))
    assert answer.status_code == 200, who
    wanted = "application/json" if accept == "application/json" else "application/jrd+json"
    assert answer.headers["content-type"].startswith(wanted)
    assert answer.json()["subject"] == "acct:cart@cart.test"


@pytest.mark.parametrize(("accept", "who"), ANYTHING, ids=ids(ANYTHING))
@pytest.mark.parametrize("path", ["/.well-known/nodeinfo", "/nodeinfo/2.1", "/nodeinfo/2.0"])
async def test_nodeinfo_answers_json_to_every_accept(
    shared_client: httpx.AsyncClient, path: str, accept: str | None, who: str
) -> None:
    answer = await shared_client.get(path, headers=headers(accept))
    assert answer.status_code == 200, who
    assert answer.headers["content-type"].startswith(("application/json", "application/jrd+json"))
    assert answer.json()


ACTOR_CASES = [
    (AS2, "as2", "Mastodon, Misskey, GoToSocial"),
    (LD_AS, "as2", "the ActivityPub spec's spelling"),
    ("application/ld+json", "as2", "JSON-LD clients"),
    (f"{AS2}, {LD_AS}", "as2", "Fedify"),
    (f"{LD_AS}, {AS2};q=0.9, */*;q=0.1", "as2", "Pleroma"),
    ("application/json", "as2", "plain JSON clients"),
    (f"{AS2}, */*", "as2", "a library adding */*"),
    (BROWSER, "html", "a browser"),
    ("text/html", "html", "a link"),
    (None, "html", "no Accept at all"),
    ("*/*", "html", "anything"),
    ("image/png", 406, "nothing we have"),
    ("text/plain", 406, "nothing we have"),
]


@pytest.mark.parametrize(
    ("accept", "expected", "who"), ACTOR_CASES, ids=[who for *_, who in ACTOR_CASES]
)
async def test_the_actor_answers_each_accept_as_its_senders_expect(
    shared_client: httpx.AsyncClient, accept: str | None, expected: str | int, who: str
) -> None:
    answer = await shared_client.get("/actor", headers=headers(accept))
    if expected == 406:
        assert answer.status_code == 406
        return
    assert answer.status_code == 200
    assert answer.headers["vary"] == "Accept"
    if expected == "as2":
        assert answer.headers["content-type"].startswith(AS2)
        assert answer.json()["id"] == "https://cart.test/actor"
    else:
        assert answer.headers["content-type"].startswith("text/html")
