"""Activities we answer 202 and do not act on, recognised cheaply and recorded small.

Ordinary servers send a cart actor things it has no use for: a Mastodon `Note` that
mentions it (`Create`), its edit (`Update`), an `Undo` of a `Like`. Refusing them with
a 4xx makes the sender retry or log an error, so they are acknowledged and recorded as
ignored. Two things keep that cheap: a `Create`/`Update`/`Undo` whose embedded object is
plainly of a type we never handle is recognised from the raw JSON, before any JSON-LD
processing; and the row kept for the log holds only who sent what, never the body.

One more: an activity we never act on, signed with a key we do not hold, from an actor
the document does not claim is a peer, is answered 202 and dropped, counted but neither
verified nor stored (`KnownKeysForIgnored`). Verifying it would mean fetching a
stranger's key, several times the cost of a catalogue page, to keep one line of log: a
sender minting actors made us do that for each Like (bench/hostile, minted-likes).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol, TypeGuard, runtime_checkable

import orjson

from actor.fetch_budget import FetchRefused
from actor.verification import ExplainsMissingKeys, KeyResolver, RemoteKey

# Verbs whose embedded object decides whether we act: ours to read only when the object
# is one of our types, an actor, or a Follow.
VERBS = frozenset({"Create", "Update", "Undo"})
# Common AS2 and fediverse object types no handler of ours reads. Not here on purpose:
# "Object" and "Event" (our fallback types), "Page" (our context redefines it),
# "Follow" (an Undo of one is ours), actor types (an Update of an actor is ours).
NEVER_HANDLED = frozenset(
    {
        "Note",
        "Article",
        "Question",
        "Image",
        "Video",
        "Audio",
        "Document",
        "ChatMessage",
        "Like",
        "Announce",
        "EmojiReact",
        "Block",
        "Add",
        "Remove",
        "Flag",
    }
)
MAX_KEPT = 2048  # longest IRI we copy into the record


def _types(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def _redefined(context: Any, names: list[str]) -> bool:
    """Whether an inline context gives one of these names another meaning."""
    entries = context if isinstance(context, list) else [context]
    return any(isinstance(entry, dict) and any(n in entry for n in names) for entry in entries)


def plainly_unhandled(document: dict[str, Any]) -> bool:
    """A Create/Update/Undo of an object whose every type is one we never handle."""
    verb = document.get("type")
    if not isinstance(verb, str) or verb not in VERBS:
        return False
    target = document.get("object")
    if isinstance(target, list) and len(target) == 1:
        target = target[0]
    if not isinstance(target, dict):
        return False
    types = _types(target.get("type"))
    if types is None or not all(name in NEVER_HANDLED for name in types):
        return False
    return not _redefined(document.get("@context"), types)


def _short(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= MAX_KEPT else None


def record_of(document: dict[str, Any]) -> str:
    """What an ignored delivery leaves in the log: its id, type, actor and object's id and
    type (the body itself is not kept: it is not ours to store)."""
    target = document.get("object")
    if isinstance(target, list) and len(target) == 1:
        target = target[0]
    record: dict[str, Any] = {
        "id": _short(document.get("id")),
        "type": _short(document.get("type")),
        "actor": _short(document.get("actor")),
    }
    if isinstance(target, dict):
        types = _types(target.get("type")) or []
        record["object"] = {"id": _short(target.get("id")), "type": [t[:64] for t in types[:4]]}
    else:
        record["object"] = _short(target)
    return orjson.dumps(record).decode()


def plainly_ignored(document: dict[str, Any]) -> bool:
    """An activity we never act on, from its raw JSON: a Like, an Announce and the like,
    or a Create/Update/Undo of an object we never handle."""
    verb = document.get("type")
    if isinstance(verb, str) and verb in NEVER_HANDLED:
        return not _redefined(document.get("@context"), [verb])
    return plainly_unhandled(document)


@runtime_checkable
class HoldsKeys(Protocol):
    def remembers(self, key_id: str) -> bool: ...  # in memory, no I/O

    async def holds(self, key_id: str) -> bool: ...


_HOLDS_KEYS: dict[type, bool] = {}  # by resolver class: a handful in a process


def _holds_keys(keys: object) -> TypeGuard[HoldsKeys]:
    """isinstance(keys, HoldsKeys), asked once per resolver class: against a runtime
    protocol, isinstance() inspects the protocol's members every time, ~15 us a
    delivery (issue 18)."""
    kind = type(keys)
    known = _HOLDS_KEYS.get(kind)
    if known is None:
        known = _HOLDS_KEYS[kind] = isinstance(keys, HoldsKeys)
    return known


class KnownKeysForIgnored:
    """The key resolver for one delivery: it fetches no stranger's key for an activity we
    would only record (then `dropped` is set and the lookup fails)."""

    def __init__(
        self, keys: KeyResolver, body: bytes, roles_of: Callable[[str], Collection[str]]
    ) -> None:
        self.keys, self.body, self.roles_of = keys, body, roles_of
        self.dropped = False

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        keys = self.keys
        # Cheapest first: memory, then the body (only an ignored type matters), then a
        # lookup, which a key we must look up anyway would otherwise pay twice.
        if (
            not refresh
            and _holds_keys(keys)
            and not keys.remembers(key_id)
            and self._ignorable()
            and not await keys.holds(key_id)
        ):
            self.dropped = True
            raise FetchRefused("an activity we do not act on: the key is not fetched")
        return await keys.key_for(key_id, refresh=refresh)

    async def why_no_key(self, key_id: str) -> str:
        """What the resolver behind says (actor.verification.ExplainsMissingKeys)."""
        if isinstance(self.keys, ExplainsMissingKeys):
            return await self.keys.why_no_key(key_id)
        return f"no key {key_id} is known or can be fetched"

    def _ignorable(self) -> bool:
        try:
            document = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(document, dict) or not plainly_ignored(document):
            return False
        actor = document.get("actor")
        return isinstance(actor, str) and not self.roles_of(actor)
