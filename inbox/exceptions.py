"""Errors of the inbox package.

    InboxError
    ├── Rejected               a delivery we refuse; carries status, problem type and detail
    └── HandlerError           a registered handler failed; the worker retries, then gives up

`Rejected` is an HTTPException so the service's one error handler renders it as
problem+json with its `problem_type`; nothing about it is stored.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

PROBLEMS = "https://rose-ash.com/problems/"


class InboxError(Exception):
    pass


class Rejected(HTTPException, InboxError):
    def __init__(
        self, status: int, reason: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, detail, headers)
        self.reason = reason
        self.problem_type = PROBLEMS + reason


class HandlerError(InboxError):
    pass
