"""What the demo actors raise.

DemoError
├── UnknownItem     no product or entry with that id
└── InvalidChange   an admin or CLI change that makes no sense (a negative price)
"""

from __future__ import annotations


class DemoError(Exception):
    """Base of the demo's own errors."""


class UnknownItem(DemoError):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"no item with id {item_id!r}")
        self.item_id = item_id


class InvalidChange(DemoError):
    """A change refused before anything was written; the message is for the operator."""
