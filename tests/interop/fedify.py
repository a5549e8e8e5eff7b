"""A real Fedify server (tests/interop/fedify/server.mjs) run by Node on loopback.

Installed with `npm ci` from the committed lock file when its node_modules is missing
(scripts/test-prerequisites does it ahead of a run); a test using it skips, saying why,
only when Node or npm is not installed at all.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.keypool import pooled_rsa

HERE = Path(__file__).parent / "fedify"
STARTUP_SECONDS = 60.0


def install() -> None:
    """`npm ci` once, or skip when this machine has no Node/npm."""
    if (HERE / "node_modules" / "@fedify" / "fedify" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("Node.js and npm are not installed: apt-get install nodejs npm")
    done = subprocess.run(  # noqa: S603 - a fixed command in our own folder
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {HERE} failed:\n{done.stdout}\n{done.stderr}")


class Fedify:
    """The running server: its actor, and the control endpoints the test drives it by."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.actor_id = f"{base_url}/users/alice"
        self.inbox = f"{self.actor_id}/inbox"
        self.shared_inbox = f"{base_url}/inbox"

    async def _control(self, method: str, path: str, **body: str) -> Any:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.request(
                method, f"{self.base_url}/control/{path}", json=body or None
            )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def follow(self, target: str) -> str:
        sent: str = (await self._control("POST", "follow", target=target))["sent"]
        return sent

    async def unfollow(self, target: str) -> str:
        sent: str = (await self._control("POST", "unfollow", target=target))["sent"]
        return sent

    async def received(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self._control("GET", "received")
        return found


@asynccontextmanager
async def running_fedify() -> AsyncIterator[Fedify]:
    install()
    key = pooled_rsa().private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    env = {**os.environ, "FEDIFY_RSA_PKCS8": base64.b64encode(key).decode()}
    process = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node",
        "server.mjs",
        cwd=HERE,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)
        words = line.decode().split()
        if words[:1] != ["listening"]:
            raise RuntimeError(f"the Fedify server did not start: {line!r}")
        yield Fedify(f"http://127.0.0.1:{words[1]}")
    finally:
        process.stdin.close()  # server.mjs exits when its stdin ends
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
