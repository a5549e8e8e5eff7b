"""bench/inbox: signed deliveries a second accepted AND committed by our inbox.

One `rose-cart serve` process (SQLite WAL, workers off, warm key cache), fed over real
loopback HTTP with pre-signed deliveries from a lean client on the other core, against a
bare Starlette endpoint in the same run that only verifies the same signature and answers
202. Target: ratio >= 0.5. Afterwards every acknowledged delivery is counted in the
database: a figure with lost work would be worthless.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from actor.signatures import Message, SigningKey, sign_request
from bench._loadgen import http_request, run_load, wait_ready
from bench.harness import Figure, free_port, percentile, report, server_env

DELIVERIES = int(os.environ.get("BENCH_INBOX_DELIVERIES", "4000"))
WARMUP = 300
CONCURRENCY = 32


# Every budget between a stranger and our inbox, off with its documented 0: a bench's
# sender is an actor we do not follow, and with them on most of its deliveries are paced
# (429 with Connection: close) and nothing is measured.
STRANGER_BUDGETS_OFF = {
    "ROSE_CART_INBOX_RATE_LIMIT": "0",
    "ROSE_CART_INBOX_HOST_RATE": "0",
    "ROSE_CART_INBOX_STRANGERS_RATE": "0",
    "ROSE_CART_KEY_FETCH_HOST_RATE": "0",
    "ROSE_CART_FEDERATION_CLIENT_RATE": "0",
}


def serve_env(data: Path, port: int, *, workers: bool) -> dict[str, str]:
    """The environment of the measured `serve` process. Its sender is an actor we do not
    follow, so every budget that stands between a stranger and our inbox (per sender, per
    host, for all strangers, per client address, for fetching unknown keys) is turned off
    with its documented 0: with them on, most deliveries are refused 429 or 401 and
    nothing is measured."""
    env = server_env()
    env.update(
        ROSE_CART_DATA_DIR=str(data),
        ROSE_CART_BASE_URL=f"http://127.0.0.1:{port}",
        ROSE_CART_WORKERS="true" if workers else "false",
        ROSE_CART_ALLOW_PRIVATE_ADDRESSES="true",
        ROSE_CART_LOG_LEVEL="WARNING",
        ROSE_CART_SUMUP_SANDBOX="true",
        **STRANGER_BUDGETS_OFF,
    )
    return env


class Sender:
    """The remote actor whose deliveries we replay; serves its actor document."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.actor = f"{self.base}/actor"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def app(self) -> Starlette:
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Service",
            "inbox": f"{self.actor}/inbox",
            "publicKey": {
                "id": f"{self.actor}#main-key",
                "owner": self.actor,
                "publicKeyPem": self.pem.decode(),
            },
        }

        async def actor(_request):  # type: ignore[no-untyped-def]
            return JSONResponse(document, media_type="application/activity+json")

        return Starlette(routes=[Route("/actor", actor)])

    def deliveries(self, port: int, count: int, target: str) -> list[bytes]:
        key = SigningKey(f"{self.actor}#main-key", self.key)
        out = []
        for _ in range(count):
            body = orjson.dumps(
                {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{self.base}/follows/{uuid.uuid4().hex}",
                    "type": "Follow",
                    "actor": self.actor,
                    "object": target,
                    "padding": "x" * 1200,
                }
            )
            headers = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/activity+json"}
            url = f"http://127.0.0.1:{port}/actor/inbox"
            headers.update(sign_request(Message.of("POST", url, headers, body), key))
            out.append(http_request("POST", "/actor/inbox", headers, body))
        return out


async def measure(
    sender: Sender, port: int, process: subprocess.Popen[bytes]
) -> tuple[float, list[float], int]:
    await wait_ready(f"http://127.0.0.1:{port}/", process)
    target = f"http://127.0.0.1:{port}/actor"
    warm = await run_load("127.0.0.1", port, sender.deliveries(port, WARMUP, target), CONCURRENCY)
    assert set(warm.statuses) == {202}, f"warm-up answers: {dict(warm.statuses)}"
    load = await run_load(
        "127.0.0.1", port, sender.deliveries(port, DELIVERIES, target), CONCURRENCY
    )
    assert set(load.statuses) == {202}, f"answers: {dict(load.statuses)}"
    return load.rate, load.latencies, WARMUP + DELIVERIES


async def run() -> None:
    sender_port = free_port()
    sender = Sender(sender_port)
    server = uvicorn.Server(uvicorn.Config(sender.app(), port=sender_port, log_level="warning"))
    sender_task = asyncio.create_task(server.serve())
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "sender.pem"
        pem.write_bytes(sender.pem)
        bare_port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench._bare_inbox",
                str(bare_port),
                str(pem),
                f"{sender.actor}#main-key",
                sender.actor,
            ]
        )
        try:
            bare_rate, bare_lat, _ = await measure(sender, bare_port, bare)
        finally:
            bare.terminate()
            bare.wait()

        port = free_port()
        env = serve_env(Path(tmp), port, workers=False)
        subprocess.run(
            [sys.executable, "-m", "service", "init"], env=env, check=True, capture_output=True
        )
        ours = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            our_rate, our_lat, sent = await measure(sender, port, ours)
        finally:
            ours.terminate()
            ours.wait()
        with sqlite3.connect(Path(tmp) / "rose-cart.sqlite3") as connection:
            kept = connection.execute("SELECT count(*) FROM inbox_activities").fetchone()[0]
    server.should_exit = True
    await sender_task
    ms = 1000
    report(
        f"inbox: {DELIVERIES} signed 1.6 KB deliveries, {CONCURRENCY} connections, "
        "one server process",
        [
            Figure(
                "accepted + committed deliveries/s",
                our_rate,
                bare_rate,
                "req/s",
                note="target ratio >= 0.5",
            )
        ],
        [
            f"ours: p50 {percentile(our_lat, 0.5) * ms:.2f} ms  "
            f"p99 {percentile(our_lat, 0.99) * ms:.2f} ms",
            f"bare: p50 {percentile(bare_lat, 0.5) * ms:.2f} ms  "
            f"p99 {percentile(bare_lat, 0.99) * ms:.2f} ms",
            f"acknowledged {sent}, found committed {kept}"
            + ("" if kept == sent else "  <-- LOST WORK"),
        ],
    )


def main() -> None:
    started = time.perf_counter()
    asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")
