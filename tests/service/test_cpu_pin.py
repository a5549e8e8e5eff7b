"""`serve` on SQLite keeps its event loop and database threads on one CPU (store/affinity.py),
and password hashing off it: read from /proc as an operator would, on a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from store.affinity import choose
from tests.service.test_cli import ROSE_CART, environment, run
from tests.support.demo import eventually
from tests.support.loopback import free_port

ALLOWED = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
needs_two_cpus = pytest.mark.skipif(len(ALLOWED) < 2, reason="needs two CPUs allowed, on Linux")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def cpus(value: str) -> frozenset[int]:
    """A Cpus_allowed_list ("0-3,6") as a set."""
    found: set[int] = set()
    for part in value.split(","):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return frozenset(found)


def thread_cpus(pid: int) -> list[frozenset[int]]:
    """Each thread's allowed CPUs."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        match = re.search(r"^Cpus_allowed_list:\s*(\S+)$", status, re.MULTILINE)
        assert match, status
        found.append(cpus(match.group(1)))
    return found


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz").status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def inheriting(cpus: frozenset[int] | None) -> Iterator[None]:
    """While the block runs, processes started here inherit only `cpus` (None: ours)."""
    if cpus is None:
        yield
        return
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, ALLOWED)


@contextmanager
def serving(
    tmp_path: Path, inherit: frozenset[int] | None = None, **settings: str
) -> Iterator[tuple[str, int]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, ROSE_CART_BASE_URL=base, **settings)
    assert run(["init"], env).returncode == 0
    with inheriting(inherit):
        server = subprocess.Popen(
            [*ROSE_CART, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
        )
    try:
        eventually(lambda: server.poll() is None and ready(base), "serve answers /readyz")
        yield base, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


def guess_a_password(base: str) -> None:
    with httpx.Client(base_url=base) as browser:
        token = _CSRF.search(browser.get("/login").text)
        assert token
        answer = browser.post(
            "/login",
            data={
                "csrf_token": token.group(1),
                "email": "nobody@example.org",
                "password": "x" * 12,
            },
        )
        assert answer.status_code == 400  # a wrong password, checked: the hash ran


@needs_two_cpus
@pytest.mark.slow
def test_serve_on_sqlite_runs_its_threads_on_one_cpu_and_hashes_on_the_others(
    tmp_path: Path,
) -> None:
    with serving(tmp_path) as (base, pid):
        cpu = choose("auto", "sqlite+aiosqlite://", ALLOWED, pid)
        assert cpu is not None
        pinned = thread_cpus(pid)
        assert len(pinned) > 1  # the loop and at least one database thread
        assert set(pinned) == {frozenset({cpu})}
        guess_a_password(base)
        after = thread_cpus(pid)
    assert ALLOWED - {cpu} in after  # the thread that hashed moved off the loop's CPU
    assert after.count(frozenset({cpu})) == len(pinned)  # and nothing else moved


@needs_two_cpus
@pytest.mark.slow
def test_cpu_pin_off_leaves_every_thread_to_the_kernel(tmp_path: Path) -> None:
    with serving(tmp_path, ROSE_CART_CPU_PIN="off") as (_, pid):
        assert set(thread_cpus(pid)) == {ALLOWED}


def test_auto_pins_only_the_single_process_of_sqlite() -> None:
    two = frozenset({0, 1})
    assert choose("auto", "sqlite+aiosqlite:///data/cart.db", two, pid=41) == 1
    assert choose("auto", "sqlite+aiosqlite:///data/cart.db", two, pid=42) == 0
    assert choose("auto", "postgresql+asyncpg://db/cart", two) is None
    assert choose("off", "sqlite+aiosqlite:///data/cart.db", two) is None
    assert choose("0", "postgresql+asyncpg://db/cart", two) == 0
    assert choose("auto", "sqlite+aiosqlite:///data/cart.db", frozenset({3})) is None


@needs_two_cpus
@pytest.mark.slow
def test_an_explicit_cpu_is_pinned_even_outside_the_cpus_serve_inherited(tmp_path: Path) -> None:
    # A bench keeps its own process (and so its children) off the server's core, then
    # starts the server with that core named: the server must go there, not stay with
    # the load on the cores it inherited.
    load, server_cpu = frozenset({min(ALLOWED)}), max(ALLOWED)
    with serving(tmp_path, inherit=load, ROSE_CART_CPU_PIN=str(server_cpu)) as (base, pid):
        assert set(thread_cpus(pid)) == {frozenset({server_cpu})}
        guess_a_password(base)  # the hashing thread goes to what serve inherited
        assert load in thread_cpus(pid)


@needs_two_cpus
def test_serve_on_a_cpu_it_may_not_use_stops_with_the_setting_named(tmp_path: Path) -> None:
    env = environment(tmp_path, ROSE_CART_CPU_PIN=str(max(ALLOWED) + 1))
    assert run(["init"], env).returncode == 0
    result = run(["serve", "--port", str(free_port())], env)
    assert result.returncode == 1
    assert f"ROSE_CART_CPU_PIN={max(ALLOWED) + 1}" in result.stderr
    assert "Traceback" not in result.stderr
