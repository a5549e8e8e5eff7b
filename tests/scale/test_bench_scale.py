"""bench/scale's inbox figure still measures what it says: signed deliveries from a
stranger, each reaching one of two web processes behind the shop's one host, are all
answered 202 and all stored.

It had quietly stopped running: its deliveries were signed for each process's own port
(refused since the Host check as addressed to another server) and met the stranger
budgets' pacing (429 with Connection: close, a reset at the load generator).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import uvicorn

import bench.scale
from bench._deployment import deployment
from bench.harness import free_port
from bench.inbox import STRANGER_BUDGETS_OFF, Sender

pytestmark = pytest.mark.slow


async def test_every_delivery_to_either_web_process_is_accepted_and_stored(
    fresh_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.scale, "INBOX_DELIVERIES", 40)
    sender = Sender(free_port())
    port = int(sender.base.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(sender.app(), port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # our first delivery makes the shop fetch the sender's key
        assert not serving.done(), "the sender's server did not start"
        await asyncio.sleep(0.01)
    try:
        async with deployment(fresh_postgres, tmp_path, settings=STRANGER_BUDGETS_OFF) as deploy:
            # Asserts every answer is 202 and every acknowledged delivery is stored.
            rate = await bench.scale.inbox_per_second(deploy, sender, 2)
        assert rate > 0
        assert len(deploy.web_ports) == 2
    finally:
        server.should_exit = True
        await serving
