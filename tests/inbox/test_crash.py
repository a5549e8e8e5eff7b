"""Persist, then answer: what got a 202 survives the process being killed right after."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from actor.incoming import ANY, IncomingActivity
from inbox.registry import HandlerRegistry
from inbox.worker import InboxWorker
from store import Database, sqlite_url_for
from tests.support.loopback import free_port
from tests.support.peers import remote_peer
from vocab.model import Follow
from vocab.parse import parse

pytestmark = pytest.mark.slow


async def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            assert server.poll() is None, "serve exited early"
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("serve did not become ready")


async def test_a_delivery_acknowledged_just_before_a_sigkill_is_processed_once_after_restart(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    env.update(
        ROSE_CART_DATA_DIR=str(tmp_path),
        ROSE_CART_BASE_URL=base,
        ROSE_CART_WORKERS="false",
        ROSE_CART_ALLOW_PRIVATE_ADDRESSES="true",
    )
    async with remote_peer() as peer:
        server = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(base, server)
            follows = [peer.activity("Follow", f"{base}/actor") for _ in range(5)]
            answers = [await peer.deliver(f"{base}/actor/inbox", f) for f in follows]
            assert [a.status_code for a in answers] == [202] * 5
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
        assert server.returncode == -signal.SIGKILL

    effects: list[str] = []

    def handle_follow(session: Any, delivery: IncomingActivity, now: Any) -> None:
        effects.append(delivery.ap_id)

    registry = HandlerRegistry()
    registry.register(Follow, ANY, handle_follow)
    db = Database(sqlite_url_for(tmp_path))
    try:
        worker = InboxWorker(db, registry, parse)
        while await worker.step():
            pass
        assert sorted(effects) == sorted(f["id"] for f in follows)
        assert await worker.step() == 0
    finally:
        await db.dispose()
