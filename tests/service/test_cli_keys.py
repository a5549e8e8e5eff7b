"""`rose-cart keys rotate`, as an operator runs it: what peers see change, and what not.

After a rotation a restarted process serves new keys in its actor document (peers refetch
on their next failed check), signs with them, and the audit log says who rotated what.
`--only` leaves the other kind alone. On both engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select

from cart.admin.audit import AuditEntry
from service.app import create_app
from store import Database
from tests.support import loopback
from tests.support.settings import app_settings

ORIGIN = "https://cart.test"  # the `cli` fixture's BASE_URL
AS2 = "application/activity+json"


async def served_keys(data_dir: Path, database_url: str) -> dict[str, Any]:
    """Start the app as a restarted process would and read its actor document."""
    app = create_app(app_settings(data_dir, database_url))
    async with app.router.lifespan_context(app):
        with loopback.in_process(ORIGIN, app):
            async with loopback.client(base_url=ORIGIN) as http:
                answer = await http.get("/actor", headers={"Accept": AS2})
                assert answer.status_code == 200
                document: dict[str, Any] = answer.json()
                return document


def rsa_pem(document: dict[str, Any]) -> str:
    return str(document["publicKey"]["publicKeyPem"])


def multikeys(document: dict[str, Any]) -> list[str]:
    return [method["publicKeyMultibase"] for method in document["assertionMethod"]]


async def run(cli: Callable[..., str], *args: str) -> str:
    # The CLI runs its own event loop (asyncio.run), so it runs beside this test's loop.
    return await asyncio.to_thread(cli, *args)


async def test_rotating_gives_peers_new_keys_and_is_in_the_audit_log(
    cli: Callable[..., str], tmp_path: Path, database_url: str, db: Database
) -> None:
    await run(cli, "init")
    before = await served_keys(tmp_path, database_url)

    said = await run(cli, "keys", "rotate")

    assert "rotated rsa and ed25519 keys" in said
    assert "restart" in said  # running processes keep the keys they loaded
    after = await served_keys(tmp_path, database_url)
    assert rsa_pem(after) != rsa_pem(before)
    assert not set(multikeys(after)) & set(multikeys(before))
    assert after["publicKey"]["id"] == before["publicKey"]["id"]  # peers refetch the same id
    async with db.transaction() as session:
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.target))).all()
    assert ("rotate_keys", "rose-cart keys rotate") in [tuple(row) for row in actions]


async def test_only_rotates_the_kind_named_and_a_second_rotation_works(
    cli: Callable[..., str], tmp_path: Path, database_url: str
) -> None:
    await run(cli, "init")
    first = await served_keys(tmp_path, database_url)

    assert "rotated rsa keys" in await run(cli, "keys", "rotate", "--only", "rsa")
    second = await served_keys(tmp_path, database_url)
    assert rsa_pem(second) != rsa_pem(first)
    assert multikeys(second) == multikeys(first)

    await run(cli, "keys", "rotate", "--only", "rsa")  # one active key per kind, again
    third = await served_keys(tmp_path, database_url)
    assert len({rsa_pem(first), rsa_pem(second), rsa_pem(third)}) == 3


async def test_a_restarted_process_signs_with_the_key_it_serves(
    cli: Callable[..., str], tmp_path: Path, database_url: str
) -> None:
    await run(cli, "init")
    old = serialization.load_pem_public_key(
        rsa_pem(await served_keys(tmp_path, database_url)).encode()
    )
    await run(cli, "keys", "rotate")
    served = serialization.load_pem_public_key(
        rsa_pem(await served_keys(tmp_path, database_url)).encode()
    )
    app = create_app(app_settings(tmp_path, database_url))
    async with app.router.lifespan_context(app):
        signature = app.state.actor.keys.rsa.private.sign(
            b"a delivery", padding.PKCS1v15(), hashes.SHA256()
        )
    assert isinstance(served, rsa.RSAPublicKey) and isinstance(old, rsa.RSAPublicKey)
    served.verify(signature, b"a delivery", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):  # a peer still holding the old key refetches
        old.verify(signature, b"a delivery", padding.PKCS1v15(), hashes.SHA256())
