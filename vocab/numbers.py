"""Whole numbers read from the network: ASCII digits only, and not too many of them.

`str.isdigit()` is true for `'²'`, `'١'` and hundreds of other characters that `int()`
then refuses (or, for Arabic-Indic digits, silently accepts), so a quantity, an order
number or a page parameter spelled with them answered 500. Every parse of a number from
a request, a header or a peer's document goes through `parse_natural`: one pattern, no
sign, no spaces, no underscores, no other scripts. A pure function, in the package every
other one may import (docs/design.md).
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")
MAX_DIGITS = 18  # below 2**63: fits every integer column and JSON-LD processor


def parse_natural(text: object, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The non-negative integer `text` spells in ASCII digits, else None."""
    if not isinstance(text, str) or not 0 < len(text) <= max_digits:
        return None
    if _DIGITS.fullmatch(text) is None:
        return None
    return int(text)


_TIMESTAMP = re.compile(r"([0-9]{1,15})(?:\.[0-9]{1,9})?")


def parse_timestamp(text: object) -> int | None:
    """Whole seconds of a `1700000000` or `1700000000.123` timestamp, else None."""
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.fullmatch(text)
    return int(match.group(1)) if match else None
