"""Structured logs: one JSON object a line, each tagged with the request id it belongs to."""

from __future__ import annotations

import contextvars
import json
import logging
import random
import re
import sys
import time
from typing import Any

from starlette.types import Scope

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Attributes every LogRecord has; anything else was passed with extra= and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
access_log = logging.getLogger("rose_cart.access")


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logging per request doubles the cost of a request (PERFORMANCE.md); ours
    # below logs failures at INFO and successes at DEBUG instead.
    logging.getLogger("uvicorn.access").disabled = True


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one.

    A fresh one is 128 random bits as 32 hex digits, like a uuid4's hex, from the
    `random` module: it only tells log lines apart and is no secret (and, unlike a
    counter, tells nobody the shop's request volume). uuid4 (a read of os.urandom, a
    system call) was ~5 % of py-spy's samples of the event loop under bench/federation.
    The header is looked for in a plain loop, not a generator.
    """
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _ACCEPTABLE_ID.match(given):
                return given
            break
    return f"{random.getrandbits(128):032x}"


def enter_request(request_id: str) -> contextvars.Token[str | None]:
    """Tag every log line of this request (task) with its id until `leave_request`."""
    return _request_id.set(request_id)


def leave_request(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def log_request(scope: Scope, status: int, started: float) -> None:
    """The access line: failures at INFO, successes at DEBUG (uvicorn's own is off)."""
    level = logging.DEBUG if status < 400 else logging.INFO
    if access_log.isEnabledFor(level):
        access_log.log(
            level,
            "%s %s %s",
            scope["method"],
            scope["path"],
            status,
            extra={"status": status, "ms": round((time.perf_counter() - started) * 1000, 2)},
        )
