"""The hop between the event loop and a unit thread: a job in, its outcome answered back.

A caller puts a `Job` (the unit, its arguments, its loop and the future it awaits) on a
thread's queue; the thread answers with `call_soon_threadsafe`, once per unit (`answer`)
or once per batch and loop (`answer_all`): each call writes to the loop's self-pipe (a
syscall on the unit's thread, and a read on the loop's). Shared by the writer
(store/units.py) and the readers (store/readers.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

log = logging.getLogger("rose_cart.store.units")

Job = tuple[
    Callable[..., Any],
    tuple[Any, ...],
    dict[str, Any],
    asyncio.AbstractEventLoop,
    asyncio.Future[Any],
]
Outcome = tuple[Any, BaseException | None]
_Answer = tuple[asyncio.Future[Any], Any, BaseException | None]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller went away; the unit's outcome stands regardless
        return
    if isinstance(error, StopIteration):
        # A future refuses StopIteration (TypeError); a coroutine raising it would become
        # a RuntimeError too (PEP 479), which is what BridgedUnits' callers see.
        wrapped = RuntimeError(f"a unit raised StopIteration: {error!r}")
        wrapped.__cause__ = error
        error = wrapped
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def answer(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, result, error)
    except RuntimeError:  # the loop has closed: nobody is waiting any more
        pass


def _settle_all(answers: list[_Answer]) -> None:
    for future, result, error in answers:
        try:
            _settle(future, result, error)
        except Exception as failure:  # one caller's answer must not stop the others'
            log.exception("cannot answer a unit's caller")
            if not future.done():
                future.set_exception(RuntimeError(f"the unit's outcome was lost: {failure!r}"))


def answer_all(jobs: list[Job], outcomes: list[Outcome]) -> None:
    """Answer a batch's callers with one wake-up of each event loop, not one per unit."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
    for (_, _, _, loop, future), (result, error) in zip(jobs, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((future, result, error))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_all, answers)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass


class Connections:
    """A unit thread's one connection, opened when first needed: if the file cannot be
    opened, that unit fails and the next one tries again, instead of the thread dying
    and every later unit waiting for it forever."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def get(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *_: object) -> None:
        if self._connection is not None:
            self._connection.close()
