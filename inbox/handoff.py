"""The receiver's parse, handed to the worker in the same process: no stored body is read twice.

The receiver has already parsed (and for trusted peers run JSON-LD over) every activity
it stores. It puts the typed activity here, keyed by the activity's id (unique in
`inbox_activities`, and known before the row's INSERT, so the entry is in place before
the commit wakes the worker), and the worker takes it instead of parsing the stored
body again. Only memory: bounded (the oldest entries go first), and empty after a
restart or in a process whose rows another process's worker applies; the worker then
parses the stored body, as it always could. Used on the event loop only. In a web-only
process (`serve --no-workers`) nothing takes the entries: they stay at the bound, a few
MB, the oldest giving way to the newest.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

# Twenty of the worker's batches: past that the worker is behind, and parses instead.
MAX_ENTRIES = 2_000


@dataclass(frozen=True)
class Parsed:
    """What the worker would make of the stored body: the typed activity and its JSON,
    and who signed it (the worker uses it only for a row of that sender)."""

    sender: str
    activity: Any
    document: dict[str, Any]


class Handoff:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Parsed] = OrderedDict()

    def offer(self, ap_id: str, parsed: Parsed) -> bool:
        """Keep `parsed` for the row about to be stored; False if one is already kept
        (a repeat delivery: the stored row is the first one's)."""
        if ap_id in self._entries:
            return False
        self._entries[ap_id] = parsed
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    def withdraw(self, ap_id: str, parsed: Parsed) -> None:
        """The row was not stored (a repeat, or the commit failed): forget our entry."""
        if self._entries.get(ap_id) is parsed:
            del self._entries[ap_id]

    def take(self, ap_id: str) -> Parsed | None:
        return self._entries.pop(ap_id, None)

    def __len__(self) -> int:
        return len(self._entries)
