"""Fixtures for the scale-out suite: a fresh PostgreSQL database per test, real processes.

These tests start `python -m service worker` / `serve --no-workers` as separate OS
processes over one PostgreSQL database and SIGKILL them. They need
ROSE_CART_TEST_POSTGRES_URL (an admin URL); without it they skip and say so.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from actor.identity import LocalActor
from service.app import prepare
from service.settings import Settings
from store import Database
from tests.conftest import POSTGRES_ENV, TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://cart.test"


async def _admin(admin_url: str, sql: str) -> None:
    db = Database(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await db.dispose()


@pytest.fixture
async def fresh_postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for this test only (dropped after)."""
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"the scale-out suite needs PostgreSQL: set {POSTGRES_ENV}")
    name = f"rose_cart_scale_{uuid.uuid4().hex[:12]}"
    await _admin(admin, f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def process_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment every rose-cart process of one deployment shares."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    env.update(
        PYTHONPATH=str(ROOT),
        ROSE_CART_DATABASE_URL=database_url,
        ROSE_CART_SECRET_KEY=TEST_SECRET,  # every process must share it: keys are sealed with it
        ROSE_CART_BASE_URL=BASE_URL,
        ROSE_CART_DATA_DIR=str(data_dir),
        ROSE_CART_ALLOW_PRIVATE_ADDRESSES="true",
        ROSE_CART_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


async def prepared(
    database_url: str, data_dir: Path, base_url: str = BASE_URL
) -> tuple[Database, LocalActor]:
    """Migrate and create the keys once, as `rose-cart init` would; our actor with its keys."""
    settings = Settings(
        base_url=base_url, data_dir=data_dir, database_url=database_url, secret_key=TEST_SECRET
    )
    db = Database(database_url)
    return db, await prepare(settings, db)


class Processes:
    """The rose-cart processes a test started; every one is SIGKILLed at the end."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[asyncio.subprocess.Process] = []

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service",
            *args,
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
        )
        self.started.append(process)
        return process

    async def serve(self, port: int) -> asyncio.subprocess.Process:
        """`rose-cart serve --no-workers` on `port`, once /readyz answers 200."""
        process = await self.start("serve", "--no-workers", "--port", str(port))
        async with httpx.AsyncClient() as client:
            for _ in range(1200):  # a minute: a busy machine starts Python slowly
                assert process.returncode is None, "serve exited early"
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        return process
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("serve did not become ready")

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()

    async def stop(self, *processes: asyncio.subprocess.Process) -> None:
        """SIGTERM, then wait for the exit: a worker finishes the turn it is in, then stops."""
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await asyncio.wait_for(process.wait(), timeout=60)

    async def kill_all(self) -> None:
        for process in self.started:
            await self.kill(process)
