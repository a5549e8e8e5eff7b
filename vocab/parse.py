"""``parse(document) -> typed value``: the one entry point for reading what peers send.

1. JSON (bytes/str via orjson, or an already-loaded dict) and the hostile-document
   limits (vocab/limits.py), before anything else looks at it.
2. Fast path: the ``@context`` is one we hold and gives every term the document uses
   our meaning (vocab/fastpath.py): read the JSON as it is.
3. Otherwise: JSON-LD compaction against our reading context with pyld and the
   offline loader (nothing is fetched), then the same typed reading.

`read_activity` is the inbox's entry: it can refuse step 3 (for senders we do not
trust: JSON-LD processing of a crafted context costs seconds of CPU) and, when step 3
ran, hands back the compacted document under our reading context, which is what the
inbox stores so that the worker's parse of it takes the fast path.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pyld import jsonld

from vocab.contexts import READING_EXTRAS, outgoing_context, reading_context
from vocab.exceptions import JsonLdFailure, NeedsJsonLd, ValidationError
from vocab.fastpath import bounded_for_json_ld, context_tokens, may_skip_json_ld
from vocab.limits import inspect
from vocab.loader import offline_loader
from vocab.model import Parsed
from vocab.reader import read

_OURS = outgoing_context()  # compared, never handed out
_NEEDS_JSON_LD = (
    "only unbounded JSON-LD processing could read this document, and we do that "
    "only for peers we follow: use the ActivityStreams context, with any extension "
    "terms as plain inline definitions (no scoped contexts, @vocab, @base or "
    "@import), in a document of at most 200 objects and lists"
)
DocumentLoader = Callable[[str, dict[str, Any]], dict[str, Any]]


def load_json(document: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(document, bytes | bytearray | memoryview | str):
        try:
            loaded = orjson.loads(document)
        except orjson.JSONDecodeError as error:
            raise ValidationError("", f"not valid JSON: {error}") from None
    else:
        loaded = document
    if type(loaded) is not dict:
        if isinstance(loaded, Mapping):
            return dict(loaded)
        raise ValidationError("", "must be a JSON object")
    return loaded


def parse(
    document: bytes | str | Mapping[str, Any], *, loader: DocumentLoader = offline_loader
) -> Parsed:
    data = load_json(document)
    shape = inspect(data, trusted_context=_OURS)
    if may_skip_json_ld(data.get("@context"), shape):
        return read(data)
    return read(compact(data, loader=loader))


@dataclass(frozen=True)
class Reading:
    """A document read: the typed value, and (when JSON-LD ran) what it said in our terms."""

    parsed: Parsed
    # The compacted document with a context the fast path reads; None when the document
    # as received took the fast path already.
    compacted: dict[str, Any] | None = None


def read_activity(
    document: bytes | str | Mapping[str, Any],
    *,
    json_ld: bool = True,
    loader: DocumentLoader = offline_loader,
) -> Reading:
    """Like `parse`; with `json_ld=False` run pyld only on a small document whose contexts
    are all plain (vocab/fastpath.py: `bounded_for_json_ld`), else raise NeedsJsonLd."""
    data = load_json(document)
    if not json_ld and context_tokens(data.get("@context")) is None:
        # Neither the fast path nor bounded processing reads a top-level context that is
        # not plain: say so before walking the document (a stranger's 90 KiB of scoped
        # contexts cost more to walk than a catalogue page to render, issue 14).
        raise NeedsJsonLd("@context", _NEEDS_JSON_LD)
    shape = inspect(data, trusted_context=_OURS)
    if may_skip_json_ld(data.get("@context"), shape):
        return Reading(read(data))
    if not json_ld and not bounded_for_json_ld(data.get("@context"), shape):
        raise NeedsJsonLd("@context", _NEEDS_JSON_LD)
    compacted = compact(data, loader=loader)
    parsed = read(compacted)
    return Reading(parsed, {"@context": [*outgoing_context(), READING_EXTRAS], **compacted})


def takes_fast_path(document: bytes | str | Mapping[str, Any]) -> bool:
    """Whether ``parse`` would read this document without JSON-LD processing."""
    data = load_json(document)
    return may_skip_json_ld(data.get("@context"), inspect(data, trusted_context=_OURS))


def compact(data: dict[str, Any], *, loader: DocumentLoader = offline_loader) -> dict[str, Any]:
    """``data`` compacted against our reading context, without its ``@context``."""
    if "@context" not in data:
        raise ValidationError("@context", "is required (a JSON-LD context, e.g. ActivityStreams)")
    options = {"documentLoader": loader, "base": None}
    try:
        # pyld rewrites parts of its input; the caller's dict stays as it was
        compacted: dict[str, Any] = jsonld.compact(
            copy.deepcopy(data), {"@context": list(reading_context())}, options
        )
    except jsonld.JsonLdError as error:
        raise JsonLdFailure("@context", f"JSON-LD processing failed: {_reason(error)}") from None
    except (RecursionError, TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise JsonLdFailure("", f"JSON-LD processing failed: {type(error).__name__}") from None
    compacted.pop("@context", None)
    if "@graph" in compacted:
        raise ValidationError("", "must describe one object, not a graph of several")
    return compacted


def _reason(error: Exception) -> str:
    code = getattr(error, "code", None)
    message = str(error).splitlines()[0][:200]
    return f"{code}: {message}" if code else message
