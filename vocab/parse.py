"""``parse(document) -> typed value``: the one entry point for reading what peers send.

1. JSON (bytes/str via orjson, or an already-loaded dict) and the hostile-document
   limits (vocab/limits.py), before anything else looks at it.
2. Fast path: the ``@context`` is one we hold and gives every term the document uses
   our meaning (vocab/fastpath.py): read the JSON as it is.
3. Otherwise: JSON-LD compaction against our reading context with pyld and the
   offline loader (nothing is fetched), then the same typed reading.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from pyld import jsonld

from vocab.contexts import outgoing_context, reading_context
from vocab.exceptions import JsonLdFailure, ValidationError
from vocab.fastpath import may_skip_json_ld
from vocab.limits import inspect
from vocab.loader import offline_loader
from vocab.model import Parsed
from vocab.reader import read

_OURS = outgoing_context()  # compared, never handed out
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
