"""A scale-out deployment on loopback for the load and scale benchmarks.

A fresh PostgreSQL database (dropped afterwards), `rose-cart serve --no-workers` and
`rose-cart worker` processes sharing it, a SumUp sandbox process, and a follower inbox
that accepts every delivery. Needs ROSE_CART_BENCH_POSTGRES_URL or
ROSE_CART_TEST_POSTGRES_URL (an admin URL such as postgresql+asyncpg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.harness import free_port, server_env
from store import Database

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_MERCHANT = "BENCH"


def has_postgres() -> bool:
    return bool(
        os.environ.get("ROSE_CART_BENCH_POSTGRES_URL")
        or os.environ.get("ROSE_CART_TEST_POSTGRES_URL")
    )


def postgres_admin_url() -> str:
    url = os.environ.get("ROSE_CART_BENCH_POSTGRES_URL") or os.environ.get(
        "ROSE_CART_TEST_POSTGRES_URL"
    )
    if not url:
        raise SystemExit("set ROSE_CART_BENCH_POSTGRES_URL (an admin postgresql+asyncpg:// URL)")
    return url


async def _admin(url: str, sql: str) -> None:
    db = Database(url, isolation_level="AUTOCOMMIT")
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await db.dispose()


@asynccontextmanager
async def fresh_database(admin: str) -> AsyncIterator[str]:
    name = f"rose_cart_bench_{uuid.uuid4().hex[:12]}"
    await _admin(admin, f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds / 0.05)):
            if process.poll() is not None:
                raise RuntimeError(f"{url}: process exited with {process.returncode}")
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


@dataclass
class Deployment:
    """The processes of one deployment; `web_ports[0]` is the public origin."""

    database_url: str
    data_dir: Path
    web_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.web_ports[0]}"

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        """Start `python -m ARGS`; its stderr goes to DATA_DIR/process-N.log for post-mortems."""
        log = open(self.data_dir / f"process-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        self.processes.append(process)
        return process

    async def start_sandbox(self) -> str:
        """One SumUp sandbox process for every web process (each one's own mounted sandbox
        would keep its own books); they reach it with credentials, as they would SumUp."""
        port = free_port()
        key = secrets.token_urlsafe(24)
        process = self.spawn(
            "payments.sandbox",
            "--port",
            str(port),
            f"--api-key={key}",  # a key may start with "-": one argument, not two
            "--merchant-code",
            SANDBOX_MERCHANT,
            "--allow-origin",
            self.env["ROSE_CART_BASE_URL"],
        )
        origin = f"http://127.0.0.1:{port}"
        await wait_ready(f"{origin}/", process)
        self.env.update(
            ROSE_CART_SUMUP_API_URL=origin,
            ROSE_CART_SUMUP_API_KEY=key,
            ROSE_CART_SUMUP_MERCHANT_CODE=SANDBOX_MERCHANT,
        )
        return origin

    async def start_web(self, count: int, *, workers: bool = False) -> None:
        """`count` web processes; with `workers`, each runs the workers in process too,
        as the embedded default (one `rose-cart serve` on SQLite) does."""
        started: list[tuple[int, subprocess.Popen[bytes]]] = []
        mode = () if workers else ("--no-workers",)
        for _ in range(count):
            port = (
                self.web_ports[len(started)] if len(self.web_ports) > len(started) else free_port()
            )
            if port not in self.web_ports:
                self.web_ports.append(port)
            started.append((port, self.spawn("service", "serve", *mode, "--port", str(port))))
        for port, process in started:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", process)

    def start_workers(self, count: int) -> None:
        for _ in range(count):
            self.spawn("service", "worker")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


@asynccontextmanager
async def deployment(
    database_url: str,
    data_dir: Path,
    *,
    sandbox: bool = True,
    settings: dict[str, str] | None = None,
) -> AsyncIterator[Deployment]:
    """Environment shared by every process; the first web port is fixed now (BASE_URL)."""
    first = free_port()
    env = server_env()
    env.update(
        PYTHONPATH=str(ROOT),
        ROSE_CART_DATABASE_URL=database_url,
        ROSE_CART_SECRET_KEY=secrets.token_urlsafe(48),
        ROSE_CART_BASE_URL=f"http://127.0.0.1:{first}",
        ROSE_CART_DATA_DIR=str(data_dir),
        ROSE_CART_ALLOW_PRIVATE_ADDRESSES="true",
        ROSE_CART_INBOX_RATE_LIMIT="0",
        ROSE_CART_LOG_LEVEL="WARNING",
    )
    env.update(settings or {})  # a benchmark's own ROSE_CART_* settings
    found = Deployment(database_url, data_dir, [first], env=env)
    try:
        if sandbox:
            await found.start_sandbox()
        else:
            env["ROSE_CART_SUMUP_SANDBOX"] = "true"  # a demo part: no real money moves
        subprocess.run(
            [sys.executable, "-m", "service", "init"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        yield found
    finally:
        found.stop()
