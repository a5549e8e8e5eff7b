"""bench/login: what each kind of login request costs the server, in catalogue pages.

bench/hostile's login row is one window's average over every request the guessers made.
This bench takes it apart. One server process as bench/hostile runs it (the whole app,
paced, on SQLite), asked one request at a time, each kind from loopback addresses of
its own; the server's CPU is read from /proc (schedstat, every thread: argon2 runs on a
worker thread) around each kind. In the same run:

- a catalogue page (GET /), the unit every figure is a ratio to;
- GET /login, the form a guesser loads first;
- a wrong password the budgets admit: every browser without the account's device cookie
  shares 5 per 15 minutes an account, at most 3 at once (`LOGIN_UNTRUSTED`'s burst), so
  each of ACCOUNTS accounts takes its burst, from an address of its own (an address's
  pacing lets 10 through at once);
- a wrong password refused over that shared budget, which the process remembers
  (store/throttle.py `Refusals`): the same 40 addresses' next tries;
- and, as the admitted guess's floor, argon2's verification alone (`owasp_argon2`) in
  this process, the one part of it no code of ours can make cheaper.

`python -m bench login`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.cart import shop_served
from bench.harness import Figure, report
from bench.idle import run_seconds
from cart.web.quotas import LOGIN_UNTRUSTED

PAGES = 300
FORMS = 200
ADMITTED = LOGIN_UNTRUSTED.burst  # wrong passwords an account's strangers get at once
ACCOUNTS = 13  # about 40 admitted guesses in all
REFUSED_ADDRESSES = 40
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def argon2_alone(rounds: int = 20) -> float:
    """Seconds of CPU one failed argon2 verification takes here (best of `rounds`)."""
    from argon2.exceptions import VerificationError

    from cart.identity.accounts import owasp_argon2

    hasher = owasp_argon2()
    stored = hasher.hash("the owner's passphrase")
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        try:
            hasher.verify(stored, "a guess")
        except VerificationError:
            pass
        best = min(best, time.process_time() - began)
    return best


def client(origin: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address, retries=0)
    return httpx.AsyncClient(base_url=origin, transport=transport, timeout=30)


async def _form(http: httpx.AsyncClient) -> str:
    found = _CSRF.search((await http.get("/login")).text)
    assert found is not None, "the login page has no CSRF token"
    return found.group(1)


async def _guess(http: httpx.AsyncClient, token: str, email: str, n: int) -> int:
    data = {"csrf_token": token, "email": email, "password": f"guess-{n:06d}"}
    return (await http.post("/login", data=data)).status_code


async def cpu_of(pid: int, work: Callable[[], Awaitable[list[int]]]) -> tuple[float, list[int]]:
    """The server's CPU seconds while `work` runs, and the statuses it was answered."""
    before = run_seconds(pid)
    statuses = await work()
    return run_seconds(pid) - before, statuses


async def measure(origin: str, pid: int) -> dict[str, tuple[float, int]]:
    """Kind -> (server CPU seconds, requests)."""
    found: dict[str, tuple[float, int]] = {}

    async with client(origin, "127.0.0.2") as shopper:
        for _ in range(50):  # caches, templates, connections
            await shopper.get("/")

        async def pages() -> list[int]:
            return [(await shopper.get("/")).status_code for _ in range(PAGES)]

        async def forms() -> list[int]:
            return [(await shopper.get("/login")).status_code for _ in range(FORMS)]

        for kind, work in (("page", pages), ("form", forms)):
            cpu, statuses = await cpu_of(pid, work)
            assert set(statuses) == {200}, f"{kind}: {statuses}"
            found[kind] = (cpu, len(statuses))

    guessers = [client(origin, f"127.0.9.{n + 1}") for n in range(REFUSED_ADDRESSES)]
    try:
        tokens = [await _form(http) for http in guessers]

        async def admitted() -> list[int]:
            answers = []
            for account in range(ACCOUNTS):  # a fresh address and account each
                for n in range(ADMITTED):
                    email = f"victim-{account}@example.org"
                    answers.append(await _guess(guessers[account], tokens[account], email, n))
            return answers

        async def refused() -> list[int]:
            answers = []
            for http, token in zip(guessers, tokens, strict=True):
                for n in range(5, 9):  # within the address's pace; over the account's budget
                    answers.append(await _guess(http, token, "victim-0@example.org", n))
            return answers

        for kind, work in (("admitted", admitted), ("refused", refused)):
            cpu, statuses = await cpu_of(pid, work)
            expected = 400 if kind == "admitted" else 429
            assert set(statuses) == {expected}, f"{kind}: {statuses}"
            found[kind] = (cpu, len(statuses))
    finally:
        for http in guessers:
            await http.aclose()
    return found


async def run() -> dict[str, tuple[float, int]]:
    async with shop_served() as (origin, pid):
        return await measure(origin, pid)


def main() -> None:
    found = asyncio.run(run())
    alone = argon2_alone()

    def each(kind: str) -> float:
        cpu, count = found[kind]
        return cpu / count * 1e6

    page = each("page")
    figures = [
        Figure("GET /login, CPU a request", each("form"), page, "µs", False, "bare: a page"),
        Figure("wrong password admitted (argon2)", each("admitted"), page, "µs", False),
        Figure("wrong password refused (429)", each("refused"), page, "µs", False),
        Figure(
            "admitted guess vs argon2 alone",
            each("admitted"),
            alone * 1e6,
            "µs",
            False,
            "bare: owasp_argon2's failed verification in this process",
        ),
    ]
    extra = [
        f"a page is GET / ({page:,.0f} µs of server CPU, {PAGES} pages); "
        f"{ACCOUNTS * ADMITTED} admitted guesses, {REFUSED_ADDRESSES * 4} refusals, "
        f"{FORMS} forms",
        "bench/hostile's login window: 4 forms, 5 admitted, ~47 refused in 7 s",
    ]
    report("login: each kind of request's server CPU, against a catalogue page", figures, extra)


if __name__ == "__main__":
    main()
