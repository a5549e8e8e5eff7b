"""`rose-cart peers backfill IRI`: an operator refills the mirror from a running market."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.demo import eventually
from tests.support.loopback import free_ports

pytestmark = pytest.mark.slow


def test_backfill_fills_the_mirror_with_progress_and_a_summary(tmp_path: Path) -> None:
    [port] = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    market = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "demo",
            "market",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "market"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    actor = f"http://127.0.0.1:{port}/actor"
    try:

        def up() -> bool:
            try:
                return (
                    httpx.get(actor, headers={"Accept": "application/activity+json"}).status_code
                    == 200
                )
            except httpx.TransportError:
                return False

        eventually(up, "the market answers")
        cart_env = {
            **env,
            "ROSE_CART_DATA_DIR": str(tmp_path / "cart"),
            "ROSE_CART_ALLOW_PRIVATE_ADDRESSES": "true",
            "ROSE_CART_PEERS": f"market={actor}",
        }
        run = subprocess.run(
            [sys.executable, "-m", "service", "peers", "backfill", actor],
            env=cart_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        market.terminate()
        market.wait(timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 items on 2 pages: 8 new" in run.stdout
    assert "page 2: 8 items" in run.stderr  # the progress bar, on stderr
