"""Run a delivery worker until killed: `python -m tests.outbox.crash_worker DB_URL KEY_PEM KEY_ID`.

The crash-safety test starts this as a real process and SIGKILLs it mid-batch.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from actor.http_auth import SignatureAuth
from actor.signatures import SigningKey
from outbox.worker import DeliverySettings, DeliveryWorker
from store import Database


async def main(url: str, key_pem: bytes, key_id: str) -> None:
    key = load_pem_private_key(key_pem, password=None)
    db = Database(url)
    worker = DeliveryWorker(
        db, SignatureAuth(SigningKey(key_id, key)), DeliverySettings(allow_private=True)
    )  # type: ignore[arg-type]
    print("ready", flush=True)
    await worker.run(asyncio.Event(), idle=0.05)


if __name__ == "__main__":
    url, key_path, key_id = sys.argv[1:4]
    asyncio.run(main(url, Path(key_path).read_bytes(), key_id))
