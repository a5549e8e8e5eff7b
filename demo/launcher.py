"""`python -m demo run`: the whole co-op on one machine, as `make run` starts it.

Three processes: the cart (`rose-cart serve`, port 8000, with the demo peers in PEERS),
the market (8001) and the calendar (8002), each with its own data directory, database
and keys, federating over loopback with real signatures. It waits until all three
answer, says what to try, and on Ctrl-C (or SIGTERM) stops all three and waits for them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
READY_SECONDS = 60


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    command: list[str]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def services(data_dir: Path, cart_port: int, market_port: int, calendar_port: int) -> list[Service]:
    cart_actor = f"http://{HOST}:{cart_port}/actor"
    python = sys.executable
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    cart_env = {
        **base,
        "ROSE_CART_DATA_DIR": str(data_dir / "cart"),
        "ROSE_CART_BASE_URL": f"http://{HOST}:{cart_port}",
        "ROSE_CART_PEERS": (
            f"market=http://{HOST}:{market_port}/actor,calendar=http://{HOST}:{calendar_port}/actor"
        ),
        "ROSE_CART_ALLOW_PRIVATE_ADDRESSES": "true",
        # The demo takes "payments" on the built-in sandbox: an explicit choice, never a
        # fallback (without it and without SumUp credentials, checkout refuses orders).
        "ROSE_CART_SUMUP_SANDBOX": "true",
        "ROSE_CART_LOG_LEVEL": os.environ.get("ROSE_CART_LOG_LEVEL", "WARNING"),
    }
    peer = [python, "-m", "demo"]
    return [
        Service(
            "market",
            market_port,
            [
                *peer,
                "market",
                "--port",
                str(market_port),
                "--data-dir",
                str(data_dir / "market"),
                "--cart",
                cart_actor,
            ],
            base,
        ),
        Service(
            "calendar",
            calendar_port,
            [
                *peer,
                "calendar",
                "--port",
                str(calendar_port),
                "--data-dir",
                str(data_dir / "calendar"),
                "--cart",
                cart_actor,
            ],
            base,
        ),
        Service(
            "cart",
            cart_port,
            [python, "-m", "service", "serve", "--port", str(cart_port)],
            cart_env,
        ),
    ]


def wait_ready(service: Service, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the {service.name} stopped while starting (exit {process.returncode}); "
                "see its log above"
            )
        try:
            httpx.get(
                f"{service.url}/actor", headers={"Accept": "application/activity+json"}, timeout=2
            )
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"the {service.name} did not answer on {service.url} within {READY_SECONDS} s")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


DEMO_SETTINGS = "demo-settings.json"


def write_demo_settings(data_dir: Path, cart_env: dict[str, str]) -> Path:
    """The demo cart's ROSE_CART_* settings (no secret: that stays in its secret_key file),
    so that `rose-cart` run in a shell finds the demo's cart as the README says."""
    folder = data_dir / "cart"
    folder.mkdir(parents=True, exist_ok=True)
    chosen = {k: v for k, v in cart_env.items() if k.startswith("ROSE_CART_")}
    chosen["ROSE_CART_DATA_DIR"] = str((data_dir / "cart").resolve())
    path = folder / DEMO_SETTINGS
    path.write_text(json.dumps(chosen, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def run(
    data_dir: Path, cart_port: int = 8000, market_port: int = 8001, calendar_port: int = 8002
) -> None:
    started: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:  # a second Ctrl-C must not cut the clean stop short
            return
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        chosen = services(data_dir, cart_port, market_port, calendar_port)
        write_demo_settings(data_dir, chosen[-1].env)
        subprocess.run([sys.executable, "-m", "service", "init"], env=chosen[-1].env, check=True)
        for service in chosen:
            print(f"-> starting the {service.name} on {service.url}", flush=True)
            process = subprocess.Popen(service.command, env=service.env, start_new_session=True)
            started.append(process)
            wait_ready(service, process)
        cart, market, calendar = chosen[2], chosen[0], chosen[1]
        print(
            "\n"
            f"  The co-op is running:\n"
            f"    shop (the cart)   {cart.url}/\n"
            f"    market            {market.url}/   (admin: {market.url}/admin)\n"
            f"    calendar          {calendar.url}/entries\n\n"
            "  Try: open the shop, add a loaf and a class ticket, check out and pay on the\n"
            "  sandbox's page; change a price in the market's admin and watch your cart show it;\n"
            "  see the seat confirmed on the calendar's page.\n"
            "  Ctrl-C stops all three.\n",
            flush=True,
        )
        while all(p.poll() is None for p in started):
            time.sleep(0.5)
        failed = next(p for p in started if p.poll() is not None)
        print(f"!! a process stopped (exit {failed.returncode}); stopping the others", flush=True)
    except KeyboardInterrupt:
        print("\n-> stopping the cart, the market and the calendar ...", flush=True)
    finally:
        stop(started)
        if started:
            print("-> all stopped", flush=True)
