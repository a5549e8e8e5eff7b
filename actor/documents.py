"""The JSON documents that describe a local actor: AS2 actor, JRD, host-meta, NodeInfo."""

from __future__ import annotations

from typing import Any

from actor.identity import LocalActor
from actor.negotiation import AS2, HTML

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"


def actor_document(actor: LocalActor) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [
            AS2_CONTEXT,
            SECURITY_V1,
            DATA_INTEGRITY_V1,
            MULTIKEY_V1,
            {
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                # data-integrity/v1 defines assertionMethod only inside proofs
                "assertionMethod": {
                    "@id": "https://w3id.org/security#assertionMethod",
                    "@type": "@id",
                    "@container": "@set",
                },
            },
        ],
        "id": actor.id,
        "type": actor.actor_type,
        "preferredUsername": actor.username,
        "name": actor.name,
        "summary": actor.summary,
        "url": actor.id,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers,
        "following": actor.following,
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "manuallyApprovesFollowers": True,
        "publicKey": {
            "id": actor.key_id,
            "owner": actor.id,
            "publicKeyPem": actor.keys.rsa.public_pem,
        },
        "assertionMethod": [
            {
                "id": actor.assertion_key_id,
                "type": "Multikey",
                "controller": actor.id,
                "publicKeyMultibase": actor.keys.ed25519.multikey,
            }
        ],
    }
    document.update(actor.extra)
    return document


def webfinger_document(actor: LocalActor) -> dict[str, Any]:
    return {
        "subject": actor.acct,
        "aliases": [actor.id],
        "links": [
            {"rel": "self", "type": AS2, "href": actor.id},
            {"rel": PROFILE_PAGE_REL, "type": HTML, "href": actor.id},
        ],
    }


def host_meta_xml(base_url: str) -> str:
    template = f"{base_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )


def host_meta_json(base_url: str) -> dict[str, Any]:
    template = f"{base_url}/.well-known/webfinger?resource={{uri}}"
    return {"links": [{"rel": "lrdd", "type": "application/jrd+json", "template": template}]}


def nodeinfo_links(base_url: str) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_21, "href": f"{base_url}/nodeinfo/2.1"}]}


def nodeinfo_document(
    actor: LocalActor, version: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "version": "2.1",
        "software": {
            "name": "rose-cart",
            "version": version,
            "repository": "https://rose-ash.com/rose-cart",
            "homepage": "https://rose-ash.com/rose-cart",
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1}},
        "metadata": {"nodeName": actor.name, **(metadata or {})},
    }
