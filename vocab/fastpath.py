"""When a document may skip JSON-LD processing.

A compact key means what its ``@context`` says. The fast path reads keys as OUR terms,
so it is taken only when the document's context gives every term the document uses
(among those we read) exactly the definition our reading context gives it. Contexts
are compared by their bundled definitions, folded in order as JSON-LD would: AS2 alone
makes ``Page`` as:Page and leaves ``orderNumber`` undefined, so such a document goes
through pyld; a context that redefines any term we read never qualifies.

Two kinds of entry are folded although we do not bundle them, because JSON-LD gives
them a meaning we can compute without a processor: a context IRI we do not hold (the
offline loader reads it as empty, so pyld would too: Pleroma's litepub context), and a
plain inline context of term definitions (Misskey's and Mastodon's extension terms):
strings or `{"@id", "@type", "@container"}` maps, and at most a default `@language`
(we read a string as the string). Anything else in an inline context (a scoped
`@context`, `@vocab`, `@base`, `@import`, `@protected`, a term with a colon) keeps the
document on the JSON-LD path, which untrusted senders do not get (inbox/receive.py).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import cache, lru_cache
from typing import Any

import orjson

from vocab.contexts import (
    AS2_CONTEXT,
    READING_EXTRAS,
    ROSE_CONTEXT,
    SECURITY_V1,
    bundled_document,
    canonical_context_iri,
    rose_terms,
)
from vocab.limits import Shape

Definition = tuple[str | None, str | None, str | None]  # IRI, @type, @container
_FOLDABLE = {AS2_CONTEXT, SECURITY_V1, ROSE_CONTEXT}
_INLINE_ROSE = "inline:rose"
_INLINE_EXTRAS = "inline:extras"
_EMPTY = "empty"  # a context IRI we do not hold: the offline loader makes it empty
_PLAIN_KEYWORDS = frozenset({"@language", "@version"})
_PLAIN_DEFINITION_KEYS = frozenset({"@id", "@type", "@container"})
_SEEN_INLINE: OrderedDict[str, dict[str, Any]] = OrderedDict()  # token -> definitions
_SEEN_MAX = 256


@cache
def _rose_inline() -> dict[str, Any]:
    return rose_terms()


def _token(entry: Any) -> str | None:
    if type(entry) is str:
        canonical = canonical_context_iri(entry)
        if canonical is None:
            return _EMPTY if entry.startswith(("https://", "http://")) else None
        return canonical if canonical in _FOLDABLE else None
    if type(entry) is dict:
        if entry == _rose_inline():
            return _INLINE_ROSE
        if entry == READING_EXTRAS:
            return _INLINE_EXTRAS
        return _plain_inline(entry)
    return None


def _is_plain_definition(term: str, definition: Any) -> bool:
    if term.startswith("@"):
        return term in _PLAIN_KEYWORDS
    if ":" in term:
        return False
    if definition is None or type(definition) is str:
        return True
    return (
        type(definition) is dict
        and definition.keys() <= _PLAIN_DEFINITION_KEYS
        and all(type(value) is str for value in definition.values())
    )


def _plain_inline(entry: dict[str, Any]) -> str | None:
    """A token for an inline context of plain term definitions, or None."""
    if not all(_is_plain_definition(term, value) for term, value in entry.items()):
        return None
    token = "inline:" + hashlib.sha256(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)).hexdigest()
    _SEEN_INLINE[token] = {k: v for k, v in entry.items() if not k.startswith("@")}
    _SEEN_INLINE.move_to_end(token)
    while len(_SEEN_INLINE) > _SEEN_MAX:
        _SEEN_INLINE.popitem(last=False)
    return token


def _definitions(token: str) -> dict[str, Any]:
    if token == _INLINE_ROSE:
        return _rose_inline()
    if token == _INLINE_EXTRAS:
        return READING_EXTRAS
    if token == _EMPTY:
        return {}
    if token.startswith("inline:"):
        return _SEEN_INLINE[token]
    context: dict[str, Any] = bundled_document(token)["@context"]
    return context


# Bounded: a sender's inline contexts become tokens, and must not grow the caches forever.
@lru_cache(maxsize=512)
def fold(tokens: tuple[str, ...]) -> dict[str, Definition]:
    raw: dict[str, Any] = {}
    redefined: set[str] = set()
    for token in tokens:
        for term, definition in _definitions(token).items():
            if not term.startswith("@"):
                if term in raw and raw[term] != definition:
                    redefined.add(term)
                raw[term] = definition
    # JSON-LD expands a term when it is defined, with the prefixes of that moment; this
    # fold expands at the end. The two agree unless a prefix changes between contexts,
    # which none of the bundled ones do; if it ever happens, nothing is fast.
    prefixes_used = {str(_iri_of(d, t)).partition(":")[0] for t, d in raw.items()}
    if redefined & prefixes_used:
        return {}

    def expand(value: str | None, seen: frozenset[str] = frozenset()) -> str | None:
        if value is None or value.startswith("@"):
            return value
        prefix, colon, rest = value.partition(":")
        if colon and not rest.startswith("//") and prefix in raw and prefix not in seen:
            base = expand(_iri_of(raw[prefix], prefix), seen | {prefix})
            return f"{base}{rest}" if base else value
        return value

    folded: dict[str, Definition] = {}
    for term, definition in raw.items():
        if type(definition) is str:
            folded[term] = (expand(definition), None, None)
        elif type(definition) is dict:
            folded[term] = (
                expand(_iri_of(definition, term)),
                expand(definition.get("@type")),
                definition.get("@container"),
            )
    return folded


def _iri_of(definition: Any, term: str) -> str:
    if type(definition) is str:
        return definition
    found = definition.get("@id", term) if type(definition) is dict else term
    return found if type(found) is str else term


READING_TOKENS = (AS2_CONTEXT, SECURITY_V1, _INLINE_ROSE, _INLINE_EXTRAS)


@lru_cache(maxsize=512)
def _complete(tokens: tuple[str, ...]) -> bool:
    ours = fold(READING_TOKENS)
    theirs = fold(tokens)
    return all(
        theirs.get(term) == definition
        for term, definition in ours.items()
        if term not in READING_EXTRAS
    )


_MAX_ENTRIES = 8  # real documents carry 1 to 4 context entries


def context_tokens(context: Any) -> tuple[str, ...] | None:
    entries = context if type(context) is list else [context]
    if len(entries) > _MAX_ENTRIES:
        return None
    tokens = tuple(_token(entry) for entry in entries)
    return None if None in tokens else tokens  # type: ignore[return-value]


def may_skip_json_ld(context: Any, shape: Shape) -> bool:
    if shape.needs_json_ld or context is None:
        return False
    tokens = context_tokens(context)
    if tokens is None:
        return False
    ours = fold(READING_TOKENS)
    used = (shape.keys | shape.types) & ours.keys()
    # An embedded object's own context applies on top of the document's (JSON-LD 1.1,
    # section 4.1): folded after it, it must still give every term we read our meaning.
    for nested in shape.nested_contexts:
        more = context_tokens(nested)
        if more is None or not _agrees(tokens + more, used):
            return False
    if _complete(tokens) and not (shape.keys & READING_EXTRAS.keys()):
        return True
    return _agrees(tokens, used)


# What JSON-LD processing may cost a sender we do not trust: small documents whose
# contexts are all ones this module can fold (no scoped contexts, no @vocab/@base/@import).
BOUNDED_CONTAINERS = 200
BOUNDED_INLINE_TERMS = 256


def bounded_for_json_ld(context: Any, shape: Shape) -> bool:
    """Whether pyld's work on this document is small and predictable: every context entry
    (nested ones too) is bundled, unknown (empty) or plain term definitions, with at
    most BOUNDED_INLINE_TERMS of those, in at most BOUNDED_CONTAINERS objects and lists."""
    if shape.containers > BOUNDED_CONTAINERS:
        return False
    terms = 0
    for entry in (context, *shape.nested_contexts):
        if context_tokens(entry) is None:
            return False
        entries = entry if type(entry) is list else [entry]
        terms += sum(len(e) for e in entries if type(e) is dict)
    return terms <= BOUNDED_INLINE_TERMS


def _agrees(tokens: tuple[str, ...], used: set[str]) -> bool:
    return _agrees_on(tokens, frozenset(used))


# Every delivery of a kind asks the same question (AS2's context, a Follow's keys): it is
# answered once. `used` holds only our reading context's terms, so the keys are bounded.
@lru_cache(maxsize=512)
def _agrees_on(tokens: tuple[str, ...], used: frozenset[str]) -> bool:
    ours, theirs = fold(READING_TOKENS), fold(tokens)
    return all(theirs.get(term) == ours[term] for term in used)
