"""bench/hostile: what a shopper notices while a stranger attacks the shop (issue 14).

One server process (the whole app on SQLite with the demo sandbox, as `bench/cart` serves
it). For each attack of `bench/_attackers.py` (and once with no attacker, just before it)
a small pool of attackers (ATTACKERS per pattern, each from a loopback address of its
own, all in one process of their own so they do not slow the shopper's client) runs the
pattern in a closed loop. Once every attacker is running (the pool's first answer), a
window of SECONDS opens: one shopper, from another address, loads the catalogue page
after page until it closes; then, still under attack, buys a loaf and pays.

Reported per attack: the shopper's catalogue p50/p99 in the window as a ratio to the
quiet run's, whether the purchase completed, and the server's CPU per attack request as
a ratio to its CPU per quiet catalogue page. The attack's CPU is the server's CPU in the
window (from /proc, so Linux) less what the shopper's pages in it cost at the quiet
run's rate; attack requests are every answer the attackers received in the same window
(each counted as it arrives; the pool snapshots its counts on SIGUSR1, sent as the
window opens and as it closes), opening bursts included. Target (the issue's): p99
under attack at most 2x quiet, and no attack request costing more CPU than a page.

`python -m bench hostile` (BENCH_HOSTILE_SECONDS, default 7, each window;
BENCH_HOSTILE_ATTACKERS tunes the pool; BENCH_HOSTILE_ONLY=a,b runs only the attacks
named). `python -m bench.hostile attack NAME ORIGIN PAGE_KEY SUBNET` is the attackers'
process: it prints `running` at its first answer, snapshots its counts on each SIGUSR1,
and on SIGTERM stops and prints the snapshots and its total, as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench._attackers import ATTACKS, Attack, Target, client, purchase
from bench.cart import PAGES as SHOP_PAGES
from bench.cart import shop_served
from bench.harness import Figure, percentile, report

SECONDS = float(os.environ.get("BENCH_HOSTILE_SECONDS", "7"))
ATTACKERS = int(os.environ.get("BENCH_HOSTILE_ATTACKERS", "4"))
# A comma-separated subset of the attacks' names (all when unset), to measure a few.
ONLY = [name for name in os.environ.get("BENCH_HOSTILE_ONLY", "").split(",") if name]
WARMUP = 100
# The idle rate taken off an attack's CPU is measured over this long right before it, and
# an attack's net CPU under IDLE_NOISE times what was taken off reads as noise.
IDLE_SECONDS = 3.0
IDLE_NOISE = 0.5
ROUNDS = 10  # one attacker's loop; it starts again until it is stopped
STARTING = 60.0  # seconds the pool may take to get its first answer
SHOPPER = "127.0.0.2"
ITEM = "https://market.example/products/0"


def buyer(subnet: int, attacked: bool) -> str:
    """Each run's purchase comes from a shopper of its own: one address buying eighteen
    times in a minute is over the checkout pace (service/pacing.py) and quota, which no
    real shopper is."""
    return f"127.1.{subnet}.{3 if attacked else 2}"


def page_key(page_iri: str) -> str:
    from cart.catalog.models import key_for

    return str(key_for(page_iri))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    latencies: list[float]  # the shopper's catalogue pages in the window
    paid: bool
    shopper_5xx: int
    cpu: float  # the server's, in the window
    seconds: float  # the window's
    # What the attackers were answered in the window (empty for a quiet run).
    attack_statuses: Counter[int] = field(default_factory=Counter)


@dataclass
class Alone:
    """An attack's window with no shopper."""

    statuses: Counter[int]  # what the attackers were answered in it
    cpu: float  # the server's in it, less its idle CPU
    # The attackers' own process: it shares the machine's cores with the server and the
    # shopper, so what it spends shows in the shopper's figures too.
    attackers_cpu: float
    idle: float  # what was taken off `cpu`: the idle rate over the window

    @property
    def within_noise(self) -> bool:
        """The attack cost less than half of what the server spends idle meanwhile: the
        idle rate itself moves that much from one few-second window to the next, so such a
        figure (or a negative one) tells nothing apart."""
        return self.cpu < IDLE_NOISE * self.idle

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


async def attack_until_stopped(attack: Attack, target: Target, subnet: int) -> None:
    """The attackers' process: ATTACKERS loops of one pattern until SIGTERM, counting
    every answer as it arrives."""
    loop = asyncio.get_running_loop()
    seen: Counter[int] = Counter()
    snapshots: list[dict[int, int]] = []
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, lambda: snapshots.append(dict(seen)))
    loop.add_signal_handler(signal.SIGTERM, done.set)

    async def attacker(address: str) -> None:
        while True:
            await attack(target, address, ROUNDS, seen)

    pool = asyncio.gather(*(attacker(f"127.0.{subnet}.{10 + n}") for n in range(ATTACKERS)))
    while not seen and not pool.done():  # a bench's own process: polling is fine here
        await asyncio.sleep(0.01)
    print("running", flush=True)
    pool.add_done_callback(lambda _: done.set())  # an attacker failed: stop, and say why
    await done.wait()
    pool.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pool  # raises what stopped an attacker before SIGTERM
    print(json.dumps({"snapshots": snapshots, "total": dict(seen)}), flush=True)


async def spawn_attackers(name: str, target: Target, subnet: int) -> asyncio.subprocess.Process:
    """The attackers' process, once it has its first answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    command = [sys.executable, "-m", "bench.hostile", "attack", name, target.origin]
    # Our own interpreter running this very module: nothing untrusted in the command.
    process = await asyncio.create_subprocess_exec(
        *command,
        target.page_key,
        str(subnet),
        target.victim,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), STARTING)
    if line.strip() != b"running":
        raise RuntimeError(f"the {name} attackers did not start: {line!r}")
    return process


async def stop_attackers(process: asyncio.subprocess.Process) -> Counter[int]:
    """What the attackers were answered between their first two snapshots (the window)."""
    process.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    found = json.loads(out)
    opened, closed = found["snapshots"][:2]
    window = Counter({int(k): v for k, v in closed.items()})
    window.subtract({int(k): v for k, v in opened.items()})
    return +window


async def scenario(target: Target, pid: int, name: str | None, subnet: int) -> Run:
    """The shopper's window (under attack when `name` is given), then their purchase."""
    pool = await spawn_attackers(name, target, subnet) if name else None
    latencies: list[float] = []
    errors = 0
    async with client(target, SHOPPER) as shopper:
        if pool is not None:
            pool.send_signal(signal.SIGUSR1)
        cpu_before = cpu_seconds(pid)
        began = time.perf_counter()
        closes = began + SECONDS
        while time.perf_counter() < closes:
            started = time.perf_counter()
            answer = await shopper.get("/")
            latencies.append(time.perf_counter() - started)
            errors += answer.status_code >= 500
        cpu = cpu_seconds(pid) - cpu_before
        seconds = time.perf_counter() - began
        if pool is not None:
            pool.send_signal(signal.SIGUSR1)
    paid, statuses = await purchase(target, buyer(subnet, name is not None))
    errors += sum(status >= 500 for status in statuses)
    seen = await stop_attackers(pool) if pool is not None else Counter()
    return Run(latencies, paid, errors, cpu, seconds, seen)


async def attack_alone(target: Target, pid: int, name: str, subnet: int) -> Alone:
    """The same attack from fresh addresses, its opening bursts included, with no shopper:
    the server's CPU in the window (less its idle rate) is all the attack's.

    The idle rate is measured right before the window, not once for the whole run: the
    server's background loops come and go, and a rate taken once over 2 s after the
    warm-up made a 20-request flood cost -0.51 pages."""
    idle = await idle_cpu(pid)
    pool = await spawn_attackers(name, target, subnet)
    pool.send_signal(signal.SIGUSR1)
    cpu_before, attackers_before = cpu_seconds(pid), cpu_seconds(pool.pid)
    began = time.perf_counter()
    await asyncio.sleep(SECONDS)  # the window: nothing to wait on but the clock
    pool.send_signal(signal.SIGUSR1)
    seconds = time.perf_counter() - began
    cpu = cpu_seconds(pid) - cpu_before - idle * seconds
    attackers_cpu = cpu_seconds(pool.pid) - attackers_before
    return Alone(await stop_attackers(pool), cpu, attackers_cpu, idle * seconds)


async def idle_cpu(pid: int) -> float:
    """The server's CPU a second with nobody asking (its background loops)."""
    before, began = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)
    return (cpu_seconds(pid) - before) / (time.perf_counter() - began)


async def run() -> list[tuple[str, Run, Run, Alone]]:
    """(attack, the shopper just before with no attacker, the shopper under attack, the
    attack alone): the machine is shared and noisy, so each attack is compared with a
    quiet run next to it."""
    runs: list[tuple[str, Run, Run, Alone]] = []
    async with shop_served() as (origin, pid):
        target = Target(origin, ITEM, page_key(SHOP_PAGES[0]))
        async with client(target, SHOPPER) as warm:  # caches, templates, connections
            for _ in range(WARMUP):
                await warm.get("/")
        for subnet, name in enumerate(ATTACKS, start=1):
            if ONLY and name not in ONLY:
                continue
            quiet = await scenario(target, pid, None, subnet)
            found = await scenario(target, pid, name, subnet)
            # Fresh addresses (subnet + 100) and a fresh victim: the first pool spent
            # the budgets of its own and of its account.
            fresh = replace(target, victim=f"victim-{subnet + 100}@example.org")
            alone = await attack_alone(fresh, pid, name, subnet + 100)
            runs.append((name, quiet, found, alone))
    return runs


def main() -> None:
    started = time.perf_counter()
    runs = asyncio.run(run())
    ms = 1000
    figures, extra, table = [], [], []
    for name, quiet, found, alone in runs:
        quiet_p50 = percentile(quiet.latencies, 0.5) * ms
        quiet_p99 = percentile(quiet.latencies, 0.99) * ms
        cpu_per_page = quiet.cpu / len(quiet.latencies)
        p50 = percentile(found.latencies, 0.5) * ms
        p99 = percentile(found.latencies, 0.99) * ms
        figures.append(Figure(f"{name}: shopper p50", p50, quiet_p50, "ms", False))
        figures.append(
            Figure(f"{name}: shopper p99", p99, quiet_p99, "ms", False, "target ratio <= 2")
        )
        per_attack = alone.cpu / alone.requests if alone.requests else float("nan")
        cpu_ratio = per_attack / cpu_per_page
        pages = "~0 (within the idle noise)" if alone.within_noise else f"{cpu_ratio:.2f}"
        answered = dict(sorted(alone.statuses.items()))
        table.append(
            f"| {name} | {p99 / quiet_p99:.2f}x | {pages} | {alone.requests} | {answered} |"
        )
        extra.append(
            f"{name}: quiet {len(quiet.latencies)} pages, p50 {quiet_p50:.1f} ms p99 "
            f"{quiet_p99:.1f} ms, {cpu_per_page * ms:.2f} ms CPU a page, purchase "
            f"{'completed' if quiet.paid else 'NOT completed'}; under attack "
            f"{len(found.latencies)} pages, purchase "
            f"{'completed' if found.paid else 'NOT completed'}, shopper 5xx "
            f"{found.shopper_5xx}, the attackers answered "
            f"{dict(sorted(found.attack_statuses.items()))}; alone, {alone.requests} "
            f"attack requests in {SECONDS:g} s cost the server {alone.cpu:.2f} s CPU, "
            f"{per_attack * ms:.2f} ms a request = {pages} pages (target <= 1; "
            f"{alone.idle:.3f} s of idle CPU taken off); "
            f"the attackers' own CPU {alone.attackers_cpu:.2f} s"
        )
    report(
        f"hostile: one shopper loading catalogue pages for {SECONDS:g} s (then a purchase) "
        f"while {ATTACKERS} attackers run each pattern; ratio to the same shopper with no "
        "attacker just before",
        figures,
        extra,
    )
    print(
        "  | attack | shopper p99 / quiet | server CPU a request / a page | requests | answered |"
    )
    print("  |---|---|---|---|---|")
    for line in table:
        print(f"  {line}")
    print(f"  (took {time.perf_counter() - started:.1f} s)")


def attack_main(name: str, origin: str, key: str, subnet: int, victim: str) -> None:
    target = Target(origin, ITEM, key, victim)
    asyncio.run(attack_until_stopped(ATTACKS[name], target, subnet))


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "attack":
        attack_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        main()
