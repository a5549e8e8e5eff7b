"""Which keys a remote actor's document vouches for, and its shared inbox.

Pure reading of fetched documents: a key counts only when it names the actor as its
owner (or controller) and lives on the actor's own origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from actor.multibase import ed25519_from_multikey
from actor.signature_types import PublicKey


@dataclass(frozen=True)
class ActorKeys:
    """The keys an actor document vouches for: publicKey entries and Multikeys it controls."""

    public_key_id: str | None
    public_key_pem: str | None
    multikeys: dict[str, str]

    def ids(self) -> set[str]:
        return {*self.multikeys, *([self.public_key_id] if self.public_key_id else [])}


def _entries(value: object) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _own(entry: dict[str, Any], ap_id: str, owner_field: str) -> bool:
    """A key entry this actor may vouch for: it names the actor as owner and lives on its origin."""
    key_id = entry.get("id")
    return (
        isinstance(key_id, str)
        and entry.get(owner_field, ap_id) == ap_id
        and origin(key_id) == origin(ap_id)
    )


def keys_of(document: dict[str, Any]) -> ActorKeys:
    """The keys owned by the actor the document describes; keys naming another owner, or
    on another origin, are ignored."""
    ap_id = document.get("id")
    if not isinstance(ap_id, str):
        return ActorKeys(None, None, {})
    key_id = pem = None
    for entry in _entries(document.get("publicKey")):
        if _own(entry, ap_id, "owner"):
            if isinstance(entry.get("publicKeyPem"), str):
                # The first is the one peers sign with; Mastodon and friends publish one.
                key_id, pem = entry["id"], entry["publicKeyPem"]
                break
    multikeys: dict[str, str] = {}
    for entry in _entries(document.get("assertionMethod")):
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
    return ActorKeys(key_id, pem, multikeys)


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


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
