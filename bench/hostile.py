"""bench/hostile: what a shopper notices while a stranger attacks the shop (issue 14).

One server process (the whole app on SQLite with the demo sandbox, as `bench/cart` serves
it). For each money-side attack of `bench/_attackers.py` (and once with no attacker) a
small pool of attackers (ATTACKERS per pattern, each from a loopback address of its own,
all in one process of their own so they do not slow the shopper's client) runs the
pattern in a loop while one shopper, from another address, loads the catalogue
PAGES times in a row and then buys a loaf and pays. Reported: the shopper's catalogue
p50/p99 as a ratio to the quiet run, whether the purchase completed, and the server's CPU
per attack request as a ratio to its CPU per quiet catalogue page (from /proc, so Linux).
Target (the issue's): p99 under attack at most 2x quiet, and no attack request costing
more CPU than a normal page.

`python -m bench hostile` (BENCH_HOSTILE_PAGES, BENCH_HOSTILE_ATTACKERS tune it,
BENCH_HOSTILE_ONLY=a,b runs only the attacks named);
`python -m bench.hostile attack NAME ORIGIN PAGE_KEY SUBNET` is the attackers' process (it
stops on SIGTERM and prints what it was answered, as JSON).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench._attackers import ATTACKS, Attack, Target, client, purchase
from bench.cart import PAGES as SHOP_PAGES
from bench.cart import seed, start
from bench.harness import Figure, free_port, percentile, report

PAGES = int(os.environ.get("BENCH_HOSTILE_PAGES", "300"))
ATTACKERS = int(os.environ.get("BENCH_HOSTILE_ATTACKERS", "4"))
# A comma-separated subset of the attacks' names (all when unset), to measure a few.
ONLY = [name for name in os.environ.get("BENCH_HOSTILE_ONLY", "").split(",") if name]
WARMUP = 100
ROUNDS = 10  # one attacker's loop; it starts again until the shopper is done
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
    latencies: list[float]
    paid: bool
    shopper_5xx: int
    attack_requests: int
    attack_statuses: Counter[int]
    cpu: float
    # The attackers' own process, over the same span: it shares the machine's cores with
    # the server and the shopper, so what it spends shows in the shopper's figures too.
    attackers_cpu: float = 0.0
    seconds: float = 0.0


async def attack_until_stopped(attack: Attack, target: Target, subnet: int) -> Counter[int]:
    """The attackers' process: ATTACKERS loops of one pattern until SIGTERM."""
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    seen: Counter[int] = Counter()

    async def attacker(address: str) -> None:
        while not done.is_set():
            seen.update(await attack(target, address, ROUNDS))

    await asyncio.gather(*(attacker(f"127.0.{subnet}.{10 + n}") for n in range(ATTACKERS)))
    return seen


def spawn_attackers(name: str, target: Target, subnet: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    command = [sys.executable, "-m", "bench.hostile", "attack", name, target.origin]
    # Our own interpreter running this very module: nothing untrusted in the command.
    return subprocess.Popen(  # noqa: S603
        [*command, target.page_key, str(subnet)], env=env, stdout=subprocess.PIPE
    )


def stop_attackers(process: subprocess.Popen[bytes]) -> Counter[int]:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=120)
    return Counter({int(k): v for k, v in json.loads(out or b"{}").items()})


async def scenario(target: Target, pid: int, name: str | None, subnet: int) -> Run:
    pool = spawn_attackers(name, target, subnet) if name else None
    if pool is not None:
        await asyncio.sleep(1.0)  # let the attackers get going (start-up, first rounds)
    cpu_before = cpu_seconds(pid)
    attackers_before = cpu_seconds(pool.pid) if pool is not None else 0.0
    began = time.perf_counter()
    latencies: list[float] = []
    errors = 0
    async with client(target, SHOPPER) as shopper:
        for _ in range(PAGES):
            started = time.perf_counter()
            answer = await shopper.get("/")
            latencies.append(time.perf_counter() - started)
            errors += answer.status_code >= 500
    paid, statuses = await purchase(target, buyer(subnet, name is not None))
    cpu = cpu_seconds(pid) - cpu_before
    seconds = time.perf_counter() - began
    attackers_cpu = cpu_seconds(pool.pid) - attackers_before if pool is not None else 0.0
    seen = stop_attackers(pool) if pool is not None else Counter()
    errors += sum(status >= 500 for status in statuses)
    return Run(latencies, paid, errors, sum(seen.values()), seen, cpu, attackers_cpu, seconds)


async def run() -> list[tuple[str, Run, Run]]:
    """(attack, the shopper just before with no attacker, the shopper under attack): the
    machine is shared and noisy, so each attack is compared with a quiet run next to it."""
    runs: list[tuple[str, Run, Run]] = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start("ours", port, tmp)
        try:
            from bench._loadgen import wait_ready

            await wait_ready(f"http://127.0.0.1:{port}/login", server)
            await seed(Path(tmp))
            target = Target(f"http://127.0.0.1:{port}", ITEM, page_key(SHOP_PAGES[0]))
            async with client(target, SHOPPER) as warm:  # caches, templates, connections
                for _ in range(WARMUP):
                    await warm.get("/")
            for subnet, name in enumerate(ATTACKS, start=1):
                if ONLY and name not in ONLY:
                    continue
                quiet = await scenario(target, server.pid, None, subnet)
                runs.append((name, quiet, await scenario(target, server.pid, name, subnet)))
        finally:
            server.terminate()
            server.wait()
    return runs


def main() -> None:
    started = time.perf_counter()
    runs = asyncio.run(run())
    ms = 1000
    figures, extra = [], []
    for name, quiet, found in runs:
        quiet_p50 = percentile(quiet.latencies, 0.5) * ms
        quiet_p99 = percentile(quiet.latencies, 0.99) * ms
        cpu_per_page = quiet.cpu / (PAGES + 7)  # the pages and the purchase's requests
        p50 = percentile(found.latencies, 0.5) * ms
        p99 = percentile(found.latencies, 0.99) * ms
        figures.append(Figure(f"{name}: shopper p50", p50, quiet_p50, "ms", False))
        figures.append(
            Figure(f"{name}: shopper p99", p99, quiet_p99, "ms", False, "target ratio <= 2")
        )
        attack_cpu = max(found.cpu - quiet.cpu, 0.0)
        per_attack = attack_cpu / found.attack_requests if found.attack_requests else 0.0
        extra.append(
            f"{name}: quiet p50 {quiet_p50:.1f} ms p99 {quiet_p99:.1f} ms (purchase "
            f"{'completed' if quiet.paid else 'NOT completed'}); under attack purchase "
            f"{'completed' if found.paid else 'NOT completed'}, "
            f"shopper 5xx {found.shopper_5xx}; {found.attack_requests} attack requests "
            f"answered {dict(sorted(found.attack_statuses.items()))}; server CPU per attack "
            f"request / per quiet page {per_attack / cpu_per_page:.2f} (target <= 1); "
            f"attack CPU in all {attack_cpu:.2f} s; the attackers' own CPU "
            f"{found.attackers_cpu:.2f} s in {found.seconds:.1f} s"
        )
    report(
        f"hostile: one shopper ({PAGES} catalogue pages, then a purchase) while "
        f"{ATTACKERS} attackers run each pattern; ratio to the same shopper with no attacker "
        "just before",
        figures,
        extra,
    )
    print(f"  (took {time.perf_counter() - started:.1f} s)")


def attack_main(name: str, origin: str, key: str, subnet: int) -> None:
    seen = asyncio.run(attack_until_stopped(ATTACKS[name], Target(origin, ITEM, key), subnet))
    print(json.dumps(dict(seen)))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "attack":
        attack_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
