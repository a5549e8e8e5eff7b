"""Discovery as a peer or a browser sees it: WebFinger, the actor, host-meta, NodeInfo."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from actor.multibase import ed25519_from_multikey
from tests.support.shared_app import SHARED_APP

# Every test only reads: one app for the module (tests/support/shared_app.py).
pytestmark = SHARED_APP

AS2 = "application/activity+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_given_our_acct_when_webfinger_then_the_self_link_leads_to_an_actor_with_a_valid_key(
    shared_client: httpx.AsyncClient,
) -> None:
    answer = await shared_client.get(
        "/.well-known/webfinger", params={"resource": "acct:cart@cart.test"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/jrd+json")
    assert answer.headers["access-control-allow-origin"] == "*"
    jrd = answer.json()
    assert jrd["subject"] == "acct:cart@cart.test"
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link["type"] == AS2

    actor = await shared_client.get(self_link["href"], headers={"Accept": AS2})
    assert actor.status_code == 200
    assert actor.headers["content-type"].startswith(AS2)
    document = actor.json()
    assert document["id"] == self_link["href"] == "https://cart.test/actor"
    assert document["type"] == "Service"
    assert document["manuallyApprovesFollowers"] is True
    for field in ("inbox", "outbox", "followers", "following"):
        assert document[field].startswith("https://cart.test/")
    assert document["endpoints"]["sharedInbox"] == "https://cart.test/inbox"
    key = document["publicKey"]
    assert key["owner"] == document["id"] and key["id"].startswith(document["id"] + "#")
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    [multikey] = document["assertionMethod"]
    assert multikey["type"] == "Multikey" and multikey["controller"] == document["id"]
    ed25519_from_multikey(multikey["publicKeyMultibase"])


@pytest.mark.parametrize(
    "accept",
    [AS2, 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"', f"{AS2}, */*"],
)
async def test_the_actor_answers_as2_to_every_as2_accept_header(
    shared_client: httpx.AsyncClient, accept: str
) -> None:
    answer = await shared_client.get("/actor", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(AS2)
    assert answer.headers["vary"] == "Accept"


async def test_a_browser_gets_an_html_profile_page(shared_client: httpx.AsyncClient) -> None:
    answer = await shared_client.get("/actor", headers={"Accept": BROWSER})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "@cart@cart.test" in answer.text


async def test_webfinger_also_finds_the_actor_by_its_iri_and_filters_by_rel(
    shared_client: httpx.AsyncClient,
) -> None:
    answer = await shared_client.get(
        "/.well-known/webfinger", params={"resource": "https://cart.test/actor", "rel": "self"}
    )
    assert answer.status_code == 200
    assert [link["rel"] for link in answer.json()["links"]] == ["self"]


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({}, 400, "resource"),
        ({"resource": ""}, 400, "resource"),
        ({"resource": "acct:"}, 400, "acct:user@host"),
        ({"resource": "acct:cart"}, 400, "acct:user@host"),
        ({"resource": "acct:@cart.test"}, 400, "acct:user@host"),
        ({"resource": "acct:ca rt@cart.test"}, 400, "acct:user@host"),
        ({"resource": "mailto:cart@cart.test"}, 400, "scheme"),
        ({"resource": "acct:" + "a" * 2000 + "@cart.test"}, 400, "too long"),
        ({"resource": "acct:nobody@cart.test"}, 404, "acct:cart@cart.test"),
        ({"resource": "acct:cart@elsewhere.example"}, 404, "no account"),
        ({"resource": "https://cart.test/someone-else"}, 404, "no account"),
    ],
)
async def test_bad_webfinger_queries_get_a_clear_4xx_problem(
    shared_client: httpx.AsyncClient, params: dict[str, str], status: int, says: str
) -> None:
    answer = await shared_client.get("/.well-known/webfinger", params=params)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status
    assert says in problem["detail"]


async def test_two_resource_parameters_are_refused(shared_client: httpx.AsyncClient) -> None:
    answer = await shared_client.get(
        "/.well-known/webfinger?resource=acct:cart@cart.test&resource=acct:other@cart.test"
    )
    assert answer.status_code == 400


async def test_an_accept_header_the_actor_cannot_satisfy_gets_406(
    shared_client: httpx.AsyncClient,
) -> None:
    answer = await shared_client.get("/actor", headers={"Accept": "image/png"})
    assert answer.status_code == 406
    assert "served as" in answer.text


@pytest.mark.parametrize("version", ["2.1", "2.0"])
async def test_nodeinfo_is_discoverable_in_both_versions_and_names_the_software(
    shared_client: httpx.AsyncClient, version: str
) -> None:
    links = (await shared_client.get("/.well-known/nodeinfo")).json()["links"]
    [link] = [lnk for lnk in links if lnk["rel"].endswith(f"/schema/{version}")]
    answer = await shared_client.get(link["href"])
    assert answer.headers["content-type"].endswith(f'/schema/{version}#"')
    document = answer.json()
    assert document["version"] == version
    assert document["software"]["name"] == "rose-cart"
    # 2.0's schema knows no repository or homepage; 2.1 added them.
    assert ("repository" in document["software"]) is (version == "2.1")
    assert document["protocols"] == ["activitypub"]


async def test_the_actor_has_an_icon_that_is_a_png_a_birth_date_and_is_discoverable(
    shared_client: httpx.AsyncClient,
) -> None:
    document = (await shared_client.get("/actor", headers={"Accept": AS2})).json()
    assert document["discoverable"] is True
    assert document["published"].endswith("Z") and document["published"][:2] == "20"
    icon = await shared_client.get(document["icon"]["url"].removeprefix("https://cart.test"))
    assert icon.status_code == 200
    assert icon.headers["content-type"] == document["icon"]["mediaType"] == "image/png"
    assert icon.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_host_meta_points_at_webfinger_in_xml_and_json(
    shared_client: httpx.AsyncClient,
) -> None:
    xml = await shared_client.get("/.well-known/host-meta")
    assert xml.headers["content-type"].startswith("application/xrd+xml")
    assert 'template="https://cart.test/.well-known/webfinger?resource={uri}"' in xml.text
    as_json = await shared_client.get("/.well-known/host-meta.json")
    assert as_json.json()["links"][0]["template"].endswith("resource={uri}")


async def test_the_vocabulary_is_served_as_json_ld_and_documented_for_people(
    shared_client: httpx.AsyncClient,
) -> None:
    context = await shared_client.get("/ns", headers={"Accept": "application/ld+json"})
    assert context.headers["content-type"].startswith("application/ld+json")
    terms = context.json()["@context"]
    assert terms["rose"] == "https://rose-ash.com/ns#"
    assert "Order" in terms and "orderNumber" in terms
    page = await shared_client.get("/ns", headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert "orderNumber" in page.text


async def test_nodeinfo_advertises_the_rose_extension(shared_client: httpx.AsyncClient) -> None:
    document = (await shared_client.get("/nodeinfo/2.1")).json()
    assert "https://rose-ash.com/ns" in document["metadata"]["activitypub"]["extensions"]
