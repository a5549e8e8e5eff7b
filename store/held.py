"""Nothing slow while a database connection is held: the guard at every costly boundary.

A request that holds a connection while it waits on the network (a key fetch, a SumUp
call, an SMTP server, a picture) or burns CPU (argon2, JSON-LD) stalls everyone who needs
that connection: on SQLite the pool has one, and one signed GET once froze the shop for
30 s (issue 14). Units of work (store/units.py) make the mistake hard to write; this
makes it impossible to ship unnoticed. Whatever holds a connection says so (`holding`:
`Database.transaction()` and `.sessions()`, and every unit while it runs), and every
costly boundary asks `outside_units(...)` first, which raises `HeldAcrossWork` naming
both. It raises in production too: the request fails loudly (500, logged with both
names) instead of quietly holding the shop's only connection; the suite runs every
route with the guard on, so a mistake is found before it ships.

The mark is a context variable: it follows a task and what it awaits, and
`asyncio.to_thread` copies it, so argon2 sent to a thread from inside a transaction is
caught too. Background tasks started inside a transaction inherit it; start them
outside one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_HELD: ContextVar[str | None] = ContextVar("rose_cart_connection_held", default=None)


class HeldAcrossWork(RuntimeError):
    """Network I/O or heavy CPU was about to run while a database connection was held."""


@contextmanager
def holding(what: str) -> Iterator[None]:
    """Mark the current context as holding a connection (`what` says which) until it ends."""
    token = _HELD.set(_HELD.get() or what)
    try:
        yield
    finally:
        _HELD.reset(token)


def outside_units(work: str) -> None:
    """Raise HeldAcrossWork if a database connection is held here; call it before `work`."""
    held = _HELD.get()
    if held is not None:
        raise HeldAcrossWork(
            f"{work} while holding a database connection ({held}): finish the unit of "
            "work first, then do it between units (docs/design.md, units of work)"
        )
