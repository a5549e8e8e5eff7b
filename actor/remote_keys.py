"""Which keys a remote actor's document vouches for, and its shared inbox.

Pure reading of fetched documents: a key counts only when it names the actor as its
owner (or controller) and lives on the actor's own origin. Every such key is kept: an
actor may list several in a `publicKey` array and FEP-521a Multikeys in
`assertionMethod`, and sign with any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from actor.multibase import ed25519_from_multikey
from actor.origin import same_origin
from actor.signature_types import PublicKey

# An actor document is capped at 1 MiB by the fetcher; this caps what one actor may make
# us store and try: real servers list one to three keys.
MAX_KEYS = 16
MAX_PEM = 20_000


@dataclass(frozen=True)
class ActorKeys:
    """The keys an actor document vouches for: publicKey entries and Multikeys it controls."""

    public_keys: dict[str, str]  # {key id: publicKeyPem}, in the document's order
    multikeys: dict[str, str]  # {key id: publicKeyMultibase}

    def ids(self) -> set[str]:
        return {*self.public_keys, *self.multikeys}


def _entries(value: object) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _own(entry: dict[str, Any], ap_id: str, owner_field: str) -> bool:
    """A key entry this actor may vouch for: it names the actor as owner and lives on its origin."""
    key_id = entry.get("id")
    return (
        isinstance(key_id, str)
        and entry.get(owner_field, ap_id) == ap_id
        and same_origin(key_id, ap_id)
    )


def keys_of(document: dict[str, Any]) -> ActorKeys:
    """The keys owned by the actor the document describes; keys naming another owner, or
    on another origin, are ignored."""
    ap_id = document.get("id")
    if not isinstance(ap_id, str):
        return ActorKeys({}, {})
    public_keys: dict[str, str] = {}
    for entry in _entries(document.get("publicKey"))[:MAX_KEYS]:
        pem = entry.get("publicKeyPem")
        if _own(entry, ap_id, "owner") and isinstance(pem, str) and len(pem) <= MAX_PEM:
            public_keys.setdefault(entry["id"], pem)
    multikeys: dict[str, str] = {}
    for entry in _entries(document.get("assertionMethod"))[:MAX_KEYS]:
        value = entry.get("publicKeyMultibase")
        if (
            entry.get("type") == "Multikey"
            and "controller" in entry
            and _own(entry, ap_id, "controller")
            and isinstance(value, str)
        ):
            try:
                ed25519_from_multikey(value)
            except ValueError:
                continue
            multikeys[entry["id"]] = value
    return ActorKeys(public_keys, multikeys)


def shared_inbox(document: dict[str, Any]) -> str | None:
    endpoints = document.get("endpoints")
    value = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    return value if isinstance(value, str) else None


@lru_cache(maxsize=1024)
def load_pem(pem: str) -> PublicKey | None:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError:
        return None
    return key if isinstance(key, PublicKey) else None
