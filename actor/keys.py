"""Our key pairs: generated once, kept in the database sealed under SECRET_KEY.

Keys live in the database rather than in files so that every web and worker process
of a scale-out deployment signs with the same key. The private half is sealed with
AES-256-GCM under a key derived from SECRET_KEY by HKDF-SHA256; the table never holds
it in clear, and the key objects below never show it in a repr or a log line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Index, Integer, LargeBinary, String, Text, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from actor.exceptions import KeyUnsealError
from actor.multibase import ed25519_multikey
from store import Base, utcnow
from store.base import UTCDateTime

RSA = "rsa"
ED25519 = "ed25519"
_SEAL_INFO = b"rose-cart local key seal v1"


class LocalKey(Base):
    __tablename__ = "local_keys"
    __table_args__ = (
        Index(
            "uq_local_keys_active_kind",
            "kind",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    public_pem: Mapped[str] = mapped_column(Text)
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def _seal_key(secret: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(
        secret.encode()
    )
    return AESGCM(derived)


def seal(private_der: bytes, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _seal_key(secret).encrypt(nonce, private_der, _SEAL_INFO)


def unseal(sealed: bytes, secret: str) -> bytes:
    try:
        return _seal_key(secret).decrypt(sealed[:12], sealed[12:], _SEAL_INFO)
    except InvalidTag as error:
        raise KeyUnsealError(
            "the stored private key cannot be opened with this SECRET_KEY: set "
            "ROSE_CART_SECRET_KEY to the value the keys were created with "
            "(DATA_DIR/secret_key on a single machine)"
        ) from error


@dataclass(frozen=True)
class RsaKey:
    public_pem: str
    private: rsa.RSAPrivateKey = field(repr=False)


@dataclass(frozen=True)
class Ed25519Key:
    public_pem: str
    private: ed25519.Ed25519PrivateKey = field(repr=False)

    @property
    def multikey(self) -> str:
        return ed25519_multikey(self.private.public_key())


@dataclass(frozen=True)
class LocalKeys:
    rsa: RsaKey
    ed25519: Ed25519Key
    # When the first key of this instance was made (retired keys count): the actor's birth.
    since: datetime | None = None


def _private_der(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def new_private_key(kind: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    if kind == RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


async def _active(session: AsyncSession, kind: str) -> LocalKey | None:
    query = (
        select(LocalKey)
        .where(LocalKey.kind == kind, LocalKey.retired_at.is_(None))
        .order_by(LocalKey.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _create(session: AsyncSession, kind: str, secret: str) -> None:
    private = new_private_key(kind)
    try:
        async with session.begin_nested():
            session.add(
                LocalKey(
                    kind=kind,
                    public_pem=_public_pem(private),
                    private_sealed=seal(_private_der(private), secret),
                )
            )
    except IntegrityError:
        # Another process created it first (a unique index allows one active key per
        # kind); theirs is as good as ours.
        pass


async def ensure_keys(session: AsyncSession, secret: str) -> bool:
    """Create whichever key pairs are missing. Returns whether any was created."""
    created = False
    for kind in (RSA, ED25519):
        if await _active(session, kind) is None:
            await _create(session, kind, secret)
            created = True
    return created


async def rotate_keys(
    session: AsyncSession, secret: str, kinds: tuple[str, ...], now: datetime
) -> None:
    """Retire the active key of each kind as of `now` and create a new one."""
    for kind in kinds:
        current = await _active(session, kind)
        if current is not None:
            current.retired_at = now
            await session.flush()
        await _create(session, kind, secret)


def _load_private(row: LocalKey, secret: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    # The RSA consistency checks cost ~30 ms a key at every start. They guard against a
    # key someone else crafted; these bytes are our own, generated here and opened only
    # because AES-GCM authenticated them under our SECRET_KEY (`unseal`).
    key = serialization.load_der_private_key(
        unseal(row.private_sealed, secret), password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey)
    return key


async def load_keys(session: AsyncSession, secret: str) -> LocalKeys:
    rows = {kind: await _active(session, kind) for kind in (RSA, ED25519)}
    missing = [kind for kind, row in rows.items() if row is None]
    if missing:
        raise LookupError(f"no {', '.join(missing)} key yet: run `rose-cart init` first")
    rsa_row, ed_row = rows[RSA], rows[ED25519]
    assert rsa_row is not None and ed_row is not None
    rsa_private = _load_private(rsa_row, secret)
    ed_private = _load_private(ed_row, secret)
    assert isinstance(rsa_private, rsa.RSAPrivateKey)
    assert isinstance(ed_private, ed25519.Ed25519PrivateKey)
    since = await session.scalar(select(func.min(LocalKey.created_at)))
    return LocalKeys(
        rsa=RsaKey(rsa_row.public_pem, rsa_private),
        ed25519=Ed25519Key(ed_row.public_pem, ed_private),
        since=since,
    )
