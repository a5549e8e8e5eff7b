"""Errors of the vocab package.

VocabError
├── ValidationError       a document breaks our federation contract; carries the JSON
│   │                     path of the offending value and a human message (the inbox
│   │                     turns it into a 400 problem detail)
│   ├── LimitExceeded     too deep, too long or too big: refused before any processing
│   ├── UnsupportedType   no type we understand (or one we do not accept there)
│   ├── JsonLdFailure     JSON-LD processing (pyld) refused the document
│   └── NeedsJsonLd       only JSON-LD processing could read it, and that was not offered
└── AddressingError       a builder was asked to address an activity against docs/protocol.md
                          (e.g. to as:Public); a programming error on our side
"""

from __future__ import annotations


class VocabError(Exception):
    pass


class ValidationError(VocabError):
    """``path`` is dotted with list indexes (``object.items[1].price.amount``); ``""``
    is the document itself."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path or '(document)'}: {message}")


class LimitExceeded(ValidationError):
    pass


class UnsupportedType(ValidationError):
    pass


class JsonLdFailure(ValidationError):
    pass


class NeedsJsonLd(ValidationError):
    pass


class AddressingError(VocabError):
    pass
