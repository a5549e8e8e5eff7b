"""When a document may skip JSON-LD processing.

A compact key means what its ``@context`` says. The fast path reads keys as OUR terms,
so it is taken only when the document's context gives every term the document uses
(among those we read) exactly the definition our reading context gives it. Contexts
are compared by their bundled definitions, folded in order as JSON-LD would: AS2 alone
makes ``Page`` as:Page and leaves ``orderNumber`` undefined, so such a document goes
through pyld; a context that redefines any term, or one we do not hold, never
qualifies.
"""

from __future__ import annotations

from functools import cache
from typing import Any

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


@cache
def _rose_inline() -> dict[str, Any]:
    return rose_terms()


def _token(entry: Any) -> str | None:
    if type(entry) is str:
        canonical = canonical_context_iri(entry)
        return canonical if canonical in _FOLDABLE else None
    if type(entry) is dict:
        if entry == _rose_inline():
            return _INLINE_ROSE
        if entry == READING_EXTRAS:
            return _INLINE_EXTRAS
    return None


def _definitions(token: str) -> dict[str, Any]:
    if token == _INLINE_ROSE:
        return _rose_inline()
    if token == _INLINE_EXTRAS:
        return READING_EXTRAS
    context: dict[str, Any] = bundled_document(token)["@context"]
    return context


@cache
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


@cache
def _complete(tokens: tuple[str, ...]) -> bool:
    ours = fold(READING_TOKENS)
    theirs = fold(tokens)
    return all(
        theirs.get(term) == definition
        for term, definition in ours.items()
        if term not in READING_EXTRAS
    )


def context_tokens(context: Any) -> tuple[str, ...] | None:
    entries = context if type(context) is list else [context]
    tokens = tuple(_token(entry) for entry in entries)
    return None if None in tokens else tokens  # type: ignore[return-value]


def may_skip_json_ld(context: Any, shape: Shape) -> bool:
    if shape.needs_json_ld or context is None:
        return False
    tokens = context_tokens(context)
    if tokens is None:
        return False
    ours = fold(READING_TOKENS)
    if _complete(tokens) and not (shape.keys & READING_EXTRAS.keys()):
        return True
    theirs = fold(tokens)
    used = (shape.keys | shape.types) & ours.keys()
    return all(theirs.get(term) == ours[term] for term in used)
