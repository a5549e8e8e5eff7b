"""The JSON documents that describe a local actor: AS2 actor, JRD, host-meta, NodeInfo."""

from __future__ import annotations

from typing import Any

from actor.icon import MEDIA_TYPE as ICON_MEDIA_TYPE
from actor.identity import LocalActor
from actor.negotiation import AS2, HTML

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
NODEINFO_20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_VERSIONS = {"2.0": NODEINFO_20, "2.1": NODEINFO_21}
TOOT = "http://joinmastodon.org/ns#"
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
                "toot": TOOT,
                "discoverable": "toot:discoverable",
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
        # A co-op's cart is a public service: directories and search may list it.
        "discoverable": True,
        "icon": {"type": "Image", "mediaType": ICON_MEDIA_TYPE, "url": actor.icon},
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
    if actor.published is not None:
        document["published"] = actor.published.strftime("%Y-%m-%dT%H:%M:%SZ")
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
    """Both schema versions we serve, newest first (FEP-f1d5); readers pick the one they know."""
    return {
        "links": [
            {"rel": schema, "href": f"{base_url}/nodeinfo/{number}"}
            for number, schema in sorted(NODEINFO_VERSIONS.items(), reverse=True)
        ]
    }


def nodeinfo_document(
    actor: LocalActor,
    version: str,
    metadata: dict[str, Any] | None = None,
    schema: str = "2.1",
) -> dict[str, Any]:
    """NodeInfo 2.1, or 2.0 (whose `software` has no repository or homepage)."""
    software = {"name": "rose-cart", "version": version}
    if schema != "2.0":
        software["repository"] = software["homepage"] = "https://rose-ash.com/rose-cart"
    return {
        "version": schema,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1}},
        "metadata": {"nodeName": actor.name, **(metadata or {})},
    }
