"""bench/checkout over real HTTP: 32 shoppers checking out against one serve process.

The server is bench/cart's `unpaced` process (the whole app on SQLite, the SumUp sandbox
mounted on its own origin, per-client pacing off so the bench is not a figure of
refusals). Each order is a shopper of its own, as a browser would be: untimed, a fresh
session GETs /login (its cookie and CSRF token, as bench/cart), adds the lines and reads
the page cart (its hand-over choice); then, timed, 32 shoppers POST the checkout form
with a contact until every prepared order is placed. Each checkout POST connects from a
loopback address of its own (127.0.0.0/8 is all loopback on Linux), so the shop's
per-address and per-cart order quotas (cart/web/quotas.py) are counted, not hit.

The checkout POST is the whole route: form parsing, CSRF, the quota check and record,
`place_order`, then `start_payment`, which creates the hosted checkout at the provider
over HTTP and keeps it on the order before the 303 to the hosted page. The provider is,
as in production, another process: the SumUp sandbox (`python -m payments.sandbox`)
under uvicorn of its own, which the serve process reaches as it would SumUp
(ROSE_CART_SUMUP_API_URL, _API_KEY, _MERCHANT_CODE). BENCH_CHECKOUT_SANDBOX_IN_PROCESS=1
measures the demo set-up instead: the sandbox mounted in the serve process, which then
pays the provider's server side of every call too. Every answer is checked: a 303 to
the sandbox's /pay/ page.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench._loadgen import http_request, wait_ready
from bench.cart import start
from bench.harness import free_port, percentile, server_core

_CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
_HANDOVER = re.compile(rb'name="handover" value="([^"]+)"')
COOKIE = "rose_cart_session"
MERCHANT = "BENCH"
IN_PROCESS = os.environ.get("BENCH_CHECKOUT_SANDBOX_IN_PROCESS") == "1"
# A command run on each process's pid for the timed phase (e.g. "py-spy record -o
# /tmp/{name}.svg --pid {pid}"), to profile the checkout POSTs alone.
PROFILE = os.environ.get("BENCH_CHECKOUT_PROFILE", "")


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU so far, from /proc (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> tuple[int, dict[str, str], bytes]:
    """One request on a keep-alive connection: status, the headers we need, the body."""
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.lower(), value.strip()
        if name == "set-cookie" and value.startswith(f"{COOKIE}="):
            headers["cookie"] = value.split(";", 1)[0]
        elif name in ("content-length", "location"):
            headers[name] = value
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


def _address(n: int) -> str:
    """The loopback address order n's shopper checks out from."""
    return f"127.{2 + n // 62500}.{(n // 250) % 250}.{n % 250 + 1}"


class _Shop:
    def __init__(self, port: int, page_key: str, items: list[str]) -> None:
        self.port, self.page_key, self.items = port, page_key, items
        self.host = f"127.0.0.1:{port}"

    def get(self, path: str, cookie: str) -> bytes:
        headers = {"Host": self.host, "Accept": "text/html"}
        if cookie:
            headers["Cookie"] = cookie
        return http_request("GET", path, headers)

    def post(self, path: str, cookie: str, form: dict[str, str]) -> bytes:
        headers = {
            "Host": self.host,
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return http_request("POST", path, headers, urlencode(form).encode())

    async def prepare(self, reader: Any, writer: Any, n: int) -> bytes:
        """A new shopper's cart, ready to check out; the checkout POST's bytes."""
        status, headers, body = await _exchange(reader, writer, self.get("/login", ""))
        token, cookie = _CSRF.search(body), headers.get("cookie", "")
        assert status == 200 and token and cookie, f"GET /login: {status}"
        csrf = token.group(1).decode()
        for item in self.items:
            form = {"csrf_token": csrf, "item": item, "quantity": "2"}
            status, headers, _ = await _exchange(
                reader, writer, self.post("/cart/lines", cookie, form)
            )
            assert status == 303, f"POST /cart/lines: {status}"
            cookie = headers.get("cookie", cookie)
        path = f"/cart/page/{self.page_key}"
        status, headers, body = await _exchange(reader, writer, self.get(path, cookie))
        assert status == 200, f"GET {path}: {status}"
        cookie = headers.get("cookie", cookie)
        form = {"csrf_token": csrf, "name": "Bench Shopper", "email": f"s{n}@bench.example"}
        handover = _HANDOVER.search(body)
        if handover:
            form["handover"] = handover.group(1).decode()
        return self.post(f"{path}/checkout", cookie, form)


async def _prepared(shop: _Shop, orders: int, concurrency: int) -> list[bytes]:
    numbers = iter(range(orders))
    prepared: dict[int, bytes] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", shop.port)
        try:
            for n in numbers:
                prepared[n] = await shop.prepare(reader, writer, n)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [prepared[n] for n in range(orders)]


async def _place_all(port: int, posts: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """orders/s and each checkout POST's latency (ms), `concurrency` shoppers at a time."""
    numbers = iter(range(len(posts)))
    latencies: list[float] = []

    async def shopper() -> None:
        for n in numbers:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(_address(n), 0)
            )
            try:
                started = time.perf_counter()
                status, headers, _ = await _exchange(reader, writer, posts[n])
                latencies.append((time.perf_counter() - started) * 1000)
            finally:
                writer.close()
            location = headers.get("location", "")
            assert status == 303 and "/pay/" in location, f"checkout: {status} {location}"

    started = time.perf_counter()
    await asyncio.gather(*(shopper() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - started), latencies


@asynccontextmanager
async def _provider(shop_port: int) -> AsyncIterator[tuple[dict[str, str], int]]:
    """A SumUp sandbox process of its own for the shop on `shop_port`; the shop's settings
    and the sandbox's pid."""
    port, key = free_port(), secrets.token_urlsafe(24)
    # Our own interpreter running our own module: nothing untrusted in the command.
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "payments.sandbox", "--port", str(port), f"--api-key={key}"]
        + ["--merchant-code", MERCHANT, "--allow-origin", f"http://127.0.0.1:{shop_port}"]
        + ["--log-level", "warning"],
        stderr=None if os.environ.get("BENCH_SERVER_STDERR") else subprocess.DEVNULL,
    )
    try:
        origin = f"http://127.0.0.1:{port}"
        await wait_ready(f"{origin}/", process)
        settings = {
            "ROSE_CART_SUMUP_API_URL": origin,
            "ROSE_CART_SUMUP_API_KEY": key,
            "ROSE_CART_SUMUP_MERCHANT_CODE": MERCHANT,
        }
        yield settings, process.pid
    finally:
        process.terminate()
        process.wait()


@asynccontextmanager
async def _served(tmp: str, port: int, settings: dict[str, str]) -> AsyncIterator[int]:
    """The `unpaced` serve process on `port`, answering; its pid."""
    server = start("unpaced", port, tmp, settings)
    try:
        await wait_ready(f"http://127.0.0.1:{port}/login", server)
        yield server.pid
    finally:
        server.terminate()
        server.wait()


@asynccontextmanager
async def _shop(tmp: str) -> AsyncIterator[tuple[int, dict[str, int]]]:
    """The `unpaced` serve process, its provider in another process unless IN_PROCESS;
    its port and the pids of the processes that serve a checkout."""
    port = free_port()
    # The serve process on a core of its own; the sandbox and this client on the others.
    with server_core() as core:
        pin = {} if core is None else {"ROSE_CART_CPU_PIN": str(core)}
        if IN_PROCESS:
            async with _served(tmp, port, pin) as pid:
                yield port, {"serve": pid}
            return
        async with (
            _provider(port) as (settings, sandbox),
            _served(tmp, port, settings | pin) as pid,
        ):
            yield port, {"serve": pid, "sandbox": sandbox}


@asynccontextmanager
async def _profiled(pids: dict[str, int]) -> AsyncIterator[None]:
    """BENCH_CHECKOUT_PROFILE's command on each process while the block runs."""
    if not PROFILE:
        yield
        return
    # The operator's own command from the environment, run on our own processes.
    profilers = [
        subprocess.Popen(PROFILE.format(name=name, pid=pid).split())  # noqa: S603
        for name, pid in pids.items()
    ]
    try:
        yield
    finally:
        for profiler in profilers:
            profiler.send_signal(2)  # SIGINT: py-spy writes its output and exits
            profiler.wait()


@dataclass(frozen=True)
class HttpCheckouts:
    """The timed checkout POSTs: orders/s, p50 and p99 (ms), and the CPU ms per order each
    process spent meanwhile (the serve process, the sandbox, this client)."""

    rate: float
    p50: float
    p99: float
    cpu_ms: dict[str, float]


async def http_checkouts(
    seed: Callable[[Path], Any], page_key: str, items: list[str], orders: int, concurrency: int
) -> HttpCheckouts:
    """`orders` checkout POSTs to one `unpaced` serve process."""
    with tempfile.TemporaryDirectory() as tmp:
        async with _shop(tmp) as (port, pids):
            await seed(Path(tmp))
            posts = await _prepared(_Shop(port, page_key, items), orders, concurrency)
            pids["client"] = os.getpid()
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            async with _profiled({k: v for k, v in pids.items() if k != "client"}):
                rate, latencies = await _place_all(port, posts, concurrency)
            cpu = {
                name: (cpu_seconds(pid) - before[name]) * 1000 / orders
                for name, pid in pids.items()
            }
    return HttpCheckouts(rate, percentile(latencies, 0.5), percentile(latencies, 0.99), cpu)
