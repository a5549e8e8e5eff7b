"""Our key pairs: created once, sealed at rest, never shown."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select

from actor.exceptions import KeyUnsealError
from actor.keys import ED25519, RSA, LocalKey, ensure_keys, load_keys, rotate_keys
from actor.multibase import ed25519_from_multikey
from store import Database, utcnow

SECRET = "s" * 48


async def test_given_no_keys_when_ensured_twice_then_one_pair_of_each_kind_exists(
    db: Database,
) -> None:
    async with db.transaction() as session:
        assert await ensure_keys(session, SECRET) is True
    async with db.transaction() as session:
        assert await ensure_keys(session, SECRET) is False
        kinds = sorted((await session.execute(select(LocalKey.kind))).scalars())
    assert kinds == [ED25519, RSA]


async def test_two_processes_creating_keys_at_once_end_with_one_active_key_each(
    database_url: str,
) -> None:
    first, second = Database(database_url), Database(database_url)

    async def create(db: Database) -> None:
        async with db.transaction() as session:
            await ensure_keys(session, SECRET)

    try:
        await asyncio.gather(create(first), create(second))
        async with first.transaction() as session:
            rows = (
                (await session.execute(select(LocalKey).where(LocalKey.retired_at.is_(None))))
                .scalars()
                .all()
            )
        assert sorted(r.kind for r in rows) == [ED25519, RSA]
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_private_key_is_stored_sealed_and_hidden_from_reprs(db: Database) -> None:
    async with db.transaction() as session:
        await ensure_keys(session, SECRET)
        keys = await load_keys(session, SECRET)
        rows = (await session.execute(select(LocalKey))).scalars().all()
    private_der = keys.rsa.private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for row in rows:
        assert private_der not in row.private_sealed
        assert b"PRIVATE KEY" not in row.private_sealed
    assert "PRIVATE" not in repr(keys)
    assert "private" not in repr(keys.rsa)


async def test_the_keys_sign_and_the_published_halves_verify(db: Database) -> None:
    async with db.transaction() as session:
        await ensure_keys(session, SECRET)
        keys = await load_keys(session, SECRET)
    public = serialization.load_pem_public_key(keys.rsa.public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    signature = keys.rsa.private.sign(b"hello", padding.PKCS1v15(), hashes.SHA256())
    public.verify(signature, b"hello", padding.PKCS1v15(), hashes.SHA256())
    ed_public = ed25519_from_multikey(keys.ed25519.multikey)
    ed_public.verify(keys.ed25519.private.sign(b"hello"), b"hello")


async def test_a_different_secret_cannot_open_the_keys_and_the_error_names_the_fix(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await ensure_keys(session, SECRET)
    with pytest.raises(KeyUnsealError, match="ROSE_CART_SECRET_KEY"):
        async with db.transaction() as session:
            await load_keys(session, "another secret")


async def test_rotation_replaces_the_active_key_and_keeps_the_old_one_retired(db: Database) -> None:
    async with db.transaction() as session:
        await ensure_keys(session, SECRET)
        before = await load_keys(session, SECRET)
    async with db.transaction() as session:
        await rotate_keys(session, SECRET, (RSA,), utcnow())
    async with db.transaction() as session:
        after = await load_keys(session, SECRET)
        retired = (
            (await session.execute(select(LocalKey).where(LocalKey.retired_at.is_not(None))))
            .scalars()
            .all()
        )
    assert after.rsa.public_pem != before.rsa.public_pem
    assert after.ed25519.public_pem == before.ed25519.public_pem
    assert [r.public_pem for r in retired] == [before.rsa.public_pem]
