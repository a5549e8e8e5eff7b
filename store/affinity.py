"""One core for the event loop and its database threads; CPU-heavy work on the others.

Every unit of work is handed from the event loop to a database thread (the SQLite writer
or a reader, store/units.py and store/readers.py) and answered back (store/handoff.py):
two wake-ups per request. On a machine with an idle second core the kernel wakes the
other thread there, so each hand-off crosses cores (a futex wake-up, the GIL handed over,
the cache lines moved) and a quiet machine spent about twice the CPU a request that a
busy one did (docs/design.md, "Latest quiet run"). Pinned to one core, a hand-off is a
plain context switch: GET /cart spent 970-1,130 µs of server CPU a request against
1,200-1,550 µs unpinned, in interleaved runs of `bench cart` (docs/design.md).

So `serve` pins its process to one CPU before any thread starts (every thread inherits
it), as ``ROSE_CART_CPU_PIN`` says: ``auto`` (the default) pins on SQLite, where one
process serves everything, and leaves PostgreSQL's several processes to the kernel;
``off`` never pins; a CPU number pins there, whatever the database and even outside the
CPUs the process inherited (the kernel refuses a CPU it may not use). Password hashing
(argon2, about a dozen pages of CPU that releases the GIL) must not queue behind the
event loop on that core: ``off_the_loop_core`` moves the thread that runs it onto the
other allowed CPUs (Linux's affinity is a thread's own, so this moves that thread only).
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("rose_cart.affinity")

_pinned: int | None = None
_others: frozenset[int] = frozenset()
_moved = threading.local()


def choose(
    setting: str, database_url: str, allowed: frozenset[int], pid: int | None = None
) -> int | None:
    """The CPU to pin to, or None. ``setting`` is ``auto``, ``off`` or a CPU number.

    ``auto`` chooses among ``allowed`` (the CPUs this process inherited). A number is the
    operator's explicit choice and is returned as it is, even outside ``allowed``: a
    parent that keeps itself off a core (a bench that loads the server from the other
    cores) hands its children its own narrow set, and an explicit pin must not be
    silently dropped there. Whether that CPU may be used is the kernel's answer
    (``pin_process``).
    """
    if setting == "off":
        return None
    if setting == "auto":
        if len(allowed) < 2 or not database_url.startswith("sqlite"):
            return None  # with one CPU allowed there is nothing to choose
        # By the process id, so that several shops (or a test suite's servers) on one
        # machine spread over its CPUs instead of all taking the same one.
        return sorted(allowed)[(os.getpid() if pid is None else pid) % len(allowed)]
    return int(setting)


def pin_process(setting: str, database_url: str) -> int | None:
    """Pin this process to the CPU ``choose`` names; call it before any thread starts.
    Returns that CPU, or None when nothing was pinned (or the OS cannot pin)."""
    global _pinned, _others
    if not hasattr(os, "sched_setaffinity"):
        return None  # not Linux: the kernel's choice stands
    allowed = frozenset(os.sched_getaffinity(0))
    cpu = choose(setting, database_url, allowed)
    if cpu is None:
        return None
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as error:  # EINVAL: no such CPU, or one outside this process's cpuset
        raise ValueError(
            f"ROSE_CART_CPU_PIN={setting}: this process may not run on CPU {cpu}"
        ) from error
    _pinned, _others = cpu, allowed - {cpu}
    log.info(
        "event loop and database threads pinned to CPU %d; hashing runs on %s", cpu, sorted(_others)
    )
    return cpu


def off_the_loop_core() -> None:
    """Called by CPU-heavy work at its start: move the calling worker thread off the
    pinned core (once per thread). Never moves the main thread, where the loop runs."""
    if _pinned is None or not _others or getattr(_moved, "done", False):
        return  # not pinned, nowhere else to go, or moved already
    if threading.current_thread() is threading.main_thread():
        return
    os.sched_setaffinity(0, _others)
    _moved.done = True
