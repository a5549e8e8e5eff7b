"""Path segments that are row ids: ASCII digits, at most 18 of them.

Starlette's ``{name:int}`` matches ``[0-9]+`` and then calls ``int()``: a path of 5,000
digits raised ValueError (Python's 4,300-digit limit) while routing, a 500 before any
handler ran, and 20 digits reached SQLite as an integer it cannot hold (found by a
fuzzing run on 2026-11-29). ``row_id`` segments match at most 18 digits (below 2**63,
vocab/numbers.py's bound), so a longer one is no route at all: 404, the cheapest answer.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from vocab.numbers import MAX_DIGITS


class RowIdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**MAX_DIGITS:
            raise ValueError(f"{value} is not a row id")
        return str(value)


register_url_convertor("row_id", RowIdConvertor())


def row_id(name: str) -> str:
    """The path segment ``{name:row_id}`` (the convertor is registered by importing this)."""
    return "{" + name + ":row_id}"
