"""The bundled JSON-LD contexts and the contexts we send and read with.

The third-party files under ``contexts/`` are the published texts (SOURCES.md says
where each came from); ``contexts/rose.jsonld`` is ours and is the one definition of
the ``rose:`` terms: the inline context we send and the /ns document are made from it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import orjson

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
ROSE_CONTEXT = "https://rose-ash.com/ns"
ROSE_NS = "https://rose-ash.com/ns#"
AS_NS = "https://www.w3.org/ns/activitystreams#"
AS_PUBLIC = AS_NS + "Public"

BUNDLED_FILES = {
    AS2_CONTEXT: "activitystreams.jsonld",
    SECURITY_V1: "security-v1.jsonld",
    DATA_INTEGRITY_V1: "data-integrity-v1.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    ROSE_CONTEXT: "rose.jsonld",
}

# Terms we read that are not in the context we send (actor documents carry them under
# their own inline contexts); reading compacts against these too so they come out as
# plain keys. IRIs per FEP-521a / Mastodon.
READING_EXTRAS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "assertionMethod": {
        "@id": "https://w3id.org/security#assertionMethod",
        "@type": "@id",
        "@container": "@set",
    },
    "Multikey": "https://w3id.org/security#Multikey",
    "controller": {"@id": "https://w3id.org/security#controller", "@type": "@id"},
    "publicKeyMultibase": {
        "@id": "https://w3id.org/security#publicKeyMultibase",
        "@type": "https://w3id.org/security#multibase",
    },
    # A native JSON number or boolean written under a full IRI carries no xsd type, so it
    # does not match our typed terms; these untyped twins catch it (shared_reading.PLAIN_TWINS).
    "plainQuantity": "rose:quantity",
    "plainStock": "rose:stock",
    "plainCapacity": "rose:capacity",
    "plainAvailable": "rose:available",
}


def canonical_context_iri(iri: str) -> str | None:
    """The bundled context an IRI names, allowing the spellings seen in the wild
    (http for https, a trailing slash or ``#``, a ``.jsonld`` suffix); else None."""
    if iri in BUNDLED_FILES:
        return iri
    try:
        parts = urlsplit(iri.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.query:
        return None
    path = parts.path.rstrip("/")
    if path.endswith(".jsonld"):
        path = path[: -len(".jsonld")]
    candidate = f"https://{parts.netloc.lower()}{path}"
    return candidate if candidate in BUNDLED_FILES else None


@cache
def _bundled_text(canonical: str) -> str:
    name = BUNDLED_FILES[canonical]
    return resources.files("vocab").joinpath("contexts", name).read_text(encoding="utf-8")


@cache
def _bundled_bytes(canonical: str) -> bytes:
    return _bundled_text(canonical).encode()


def bundled_document(canonical: str) -> dict[str, Any]:
    """A fresh copy (pyld may rewrite what it is handed), parsed anew: every document we
    send carries one, and `copy.deepcopy` of the parsed file cost ~8x this."""
    document: dict[str, Any] = orjson.loads(_bundled_bytes(canonical))
    return document


def rose_context_document() -> dict[str, Any]:
    """The document served at /ns as application/ld+json."""
    return bundled_document(ROSE_CONTEXT)


def rose_terms() -> dict[str, Any]:
    """Our term definitions, for sending inline."""
    terms: dict[str, Any] = bundled_document(ROSE_CONTEXT)["@context"]
    return terms


def outgoing_context() -> list[Any]:
    """The ``@context`` of every document we send (docs/protocol.md)."""
    return [AS2_CONTEXT, SECURITY_V1, rose_terms()]


@cache
def reading_context() -> tuple[Any, ...]:
    """What incoming documents are compacted against on the JSON-LD path."""
    return (AS2_CONTEXT, SECURITY_V1, {**rose_terms(), **READING_EXTRAS})
