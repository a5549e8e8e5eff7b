"""Hostile-document guards, applied to the raw JSON before anything else looks at it.

| limit | value | why |
|---|---|---|
| nesting depth | 16 objects/lists | our deepest (Create > Order > items > OrderItem > price) is 5 |
| list length | 1,000 entries | an order or a collection page; bigger lists are paged |
| keys per object | 256 | our richest object has ~15 |
| string length | 65,536 characters | an actor's HTML summary fits; IRIs are capped at 2,048 |
| containers in a document | 20,000 | bounds the total work whatever the shape |
| integers | within signed 64 bits | what a JSON-LD processor and PostgreSQL can hold |
| strings | no NUL (``\\u0000``) | PostgreSQL's text cannot hold one: the insert would fail |

The same walk records what the fast path needs to know: every key used, every type
name, the ``@context`` of any embedded object, and whether anything (``@``-keywords,
prefixed or full-IRI keys) means only a JSON-LD processor can say what the document says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vocab.exceptions import LimitExceeded

MAX_DEPTH = 16
MAX_LIST = 1_000
MAX_KEYS = 256
MAX_STRING = 65_536
MAX_IRI = 2_048
MAX_CONTAINERS = 20_000
MAX_INT = 2**63 - 1


@dataclass
class Shape:
    keys: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    needs_json_ld: bool = False
    containers: int = 0
    # The @context of each embedded object that has its own (an actor in an Update):
    # the fast path may still read it when those contexts give our terms our meaning.
    nested_contexts: list[Any] = field(default_factory=list)


class _Breach(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.segments: list[str | int] = []


def inspect(document: dict[str, Any], *, trusted_context: Any = None) -> Shape:
    """Check every limit and describe the document; raise LimitExceeded with the path.

    ``trusted_context``: a context known to be within limits (ours); a document whose
    ``@context`` equals it skips walking it, the bulk of a small activity's bytes."""
    shape = Shape()
    try:
        context = document.get("@context")
        if context is not None and (trusted_context is None or context != trusted_context):
            scratch = Shape()  # a context's keys are term definitions, not properties
            try:
                _value(context, 1, scratch)
            except _Breach as breach:
                breach.segments.append("@context")
                raise
            shape.containers += scratch.containers
        _object(document, 0, shape, top=True)
        if shape.containers > MAX_CONTAINERS:
            raise _Breach(f"more than {MAX_CONTAINERS} objects and lists in one document")
    except _Breach as breach:
        raise LimitExceeded(_format(reversed(breach.segments)), breach.message) from None
    return shape


def _value(value: Any, depth: int, shape: Shape) -> None:
    kind = type(value)
    if kind is dict:
        _object(value, depth, shape)
    elif kind is list:
        _list(value, depth, shape)
    elif kind is str:
        if len(value) > MAX_STRING or "\x00" in value:
            _refuse_string(value)
    elif kind is int and not -MAX_INT - 1 <= value <= MAX_INT:
        raise _Breach("an integer outside signed 64 bits")


def _refuse_string(value: str) -> None:
    if len(value) > MAX_STRING:
        raise _Breach(f"a string longer than {MAX_STRING} characters")
    raise _Breach("a NUL character (\\u0000), which no text we keep may hold")


def _object(value: dict[str, Any], depth: int, shape: Shape, top: bool = False) -> None:
    # One try around the loop (not per child): the happy path pays no bookkeeping and
    # a breach learns its key from the loop variable.
    if depth >= MAX_DEPTH:
        raise _Breach(f"nested deeper than {MAX_DEPTH} levels")
    if len(value) > MAX_KEYS:
        raise _Breach(f"an object with more than {MAX_KEYS} keys")
    shape.containers += 1
    shape.keys.update(value)
    key = ""
    try:
        for key, item in value.items():
            if key[:1] == "@" or ":" in key:
                if key == "@context":
                    if not top:
                        shape.nested_contexts.append(item)
                        scratch = Shape()  # term definitions, not properties
                        _value(item, depth + 1, scratch)
                        shape.containers += scratch.containers
                    continue
                shape.needs_json_ld = True
            elif key == "type":
                if type(item) is str:
                    shape.types.add(item)
                elif type(item) is list:
                    shape.types.update(v for v in item if type(v) is str)
            kind = type(item)
            if kind is str:
                if len(item) > MAX_STRING or "\x00" in item:
                    _refuse_string(item)
            elif kind is dict:
                _object(item, depth + 1, shape)
            elif kind is list:
                _list(item, depth + 1, shape)
            elif kind is int and not -MAX_INT - 1 <= item <= MAX_INT:
                raise _Breach("an integer outside signed 64 bits")
    except _Breach as breach:
        breach.segments.append(key)
        raise
    if top:
        shape.keys.discard("@context")


def _list(value: list[Any], depth: int, shape: Shape) -> None:
    if depth >= MAX_DEPTH:
        raise _Breach(f"nested deeper than {MAX_DEPTH} levels")
    if len(value) > MAX_LIST:
        raise _Breach(f"a list longer than {MAX_LIST} entries")
    shape.containers += 1
    index = 0
    try:
        for index, item in enumerate(value):  # noqa: B007 - the except clause reads it
            kind = type(item)
            if kind is str:
                if len(item) > MAX_STRING or "\x00" in item:
                    _refuse_string(item)
            elif kind is dict or kind is list or kind is int:
                _value(item, depth + 1, shape)
    except _Breach as breach:
        breach.segments.append(index)
        raise


def _format(segments: Any) -> str:
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else str(segment)
    return text
