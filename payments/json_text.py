"""JSON from the network, read with the standard library (money needs ``parse_float``).

``json.loads`` raises RecursionError, not ValueError, for a document nested deeper than
the interpreter's recursion limit, so every ``except ValueError`` around it let a 30 KB
body of ``{"a":`` x 5,000 through as a 500 (``POST /webhooks/sumup``, found by a fuzzing
run on 2026-11-29). Here it is a ValueError like any other unreadable body.
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes, **options: Any) -> Any:
    try:
        return json.loads(text, **options)
    except RecursionError as error:
        raise ValueError("the JSON is nested too deeply") from error
