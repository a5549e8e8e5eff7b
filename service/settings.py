"""The one settings object, read from the environment (prefix ROSE_CART_) at start-up.

Every field is documented in the README's configuration table; a test keeps the two in
step. Secrets are ``SecretStr``: they print as '**********' in a repr or a log line.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from actor.roles import PeerRole
from cart.catalog.fulfilment import parse_default
from store import Database, sqlite_url_for

PEER_ROLES: tuple[str, ...] = tuple(PeerRole)


@dataclass(frozen=True)
class Peer:
    role: PeerRole
    actor_id: str


def parse_peers(value: str) -> tuple[Peer, ...]:
    peers = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        role, sep, iri = item.partition("=")
        role, iri = role.strip().lower(), iri.strip()
        if not sep or role not in PEER_ROLES:
            raise ValueError(
                f"PEERS entry {item!r} must be role=actor-iri with role one of "
                f"{', '.join(PEER_ROLES)}"
            )
        if urlsplit(iri).scheme not in ("http", "https") or not urlsplit(iri).netloc:
            raise ValueError(f"PEERS entry {item!r}: {iri!r} is not an http(s) actor IRI")
        peers.append(Peer(PeerRole(role), iri))
    return tuple(peers)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROSE_CART_", extra="ignore")

    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public origin of this instance, no trailing path."
    )
    username: str = Field("cart", description="The actor's preferredUsername (acct:USERNAME@host).")
    data_dir: Path = Field(Path("data"), description="Where SQLite, the secret and uploads live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; default SQLite in DATA_DIR."
    )
    database_pool_size: int = Field(
        20, ge=1, description="PostgreSQL connections per process (SQLite always uses one)."
    )
    database_pool_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for a free pooled connection before failing."
    )
    secret_key: SecretStr | None = Field(
        None, description="Signs sessions and CSRF tokens, seals private keys."
    )
    peers: Annotated[tuple[Peer, ...], NoDecode] = Field(
        (), description="Comma list of role=actor-iri (market, calendar, coop)."
    )
    allow_private_addresses: bool = Field(
        False, description="Allow fetching from and delivering to private/loopback addresses."
    )
    sumup_api_key: SecretStr | None = Field(None, description="SumUp API key (secret).")
    sumup_merchant_code: str | None = Field(None, description="SumUp merchant code.")
    sumup_api_url: str | None = Field(None, description="SumUp API origin; SumUp's own when unset.")
    sumup_sandbox: bool = Field(
        False, description="Serve the SumUp sandbox on our origin: a demo, no real money."
    )
    workers: bool = Field(True, description="Run inbox/delivery workers inside `serve`.")
    cpu_pin: str = Field(
        "auto",
        pattern=r"^(auto|off|[0-9]{1,4})$",
        description="auto: pin `serve` to one CPU on SQLite; off; or a CPU number.",
    )
    log_level: str = Field("INFO", description="Python logging level name.")
    inbox_rate_limit: float = Field(
        20.0,
        ge=0,
        description="Deliveries a second each sender may make to our inbox (0: no limit).",
    )
    inbox_burst: int = Field(200, ge=1, description="How many deliveries a sender may burst.")
    time_zone: str = Field(
        "Europe/London",
        description="IANA zone times are shown in when the calendar names none for its venue.",
    )
    fulfilment_default: str = Field(
        "pickup",
        description="Offered when a page publishes no rose:fulfilment: pickup[: PLACE] or none.",
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="smtp://user:pass@host:587 (STARTTLS) or smtps://host:465; unset: kept.",
    )
    mail_from: str | None = Field(None, description="The From of every mail we send.")
    mail_retention_days: int = Field(
        30, ge=1, description="Sent, kept and given-up mails are deleted after this long."
    )
    inbox_host_rate: float = Field(
        2.0,
        ge=0,
        description="Deliveries a second from actors we do not follow, per host (0: no limit).",
    )
    inbox_host_burst: int = Field(
        60, ge=1, description="How many deliveries actors on one host we do not follow may burst."
    )
    inbox_strangers_rate: float = Field(
        20.0,
        ge=0,
        description="Deliveries a second from all actors we do not follow together (0: no limit).",
    )
    inbox_strangers_burst: int = Field(
        300, ge=1, description="How many deliveries all actors we do not follow may burst."
    )
    federation_client_rate: float = Field(
        2.0,
        ge=0,
        description=(
            "Inbox POSTs and signed collection GETs a second per client address, past the "
            "burst, unless they claim a peer's key (0: not paced)."
        ),
    )
    federation_client_burst: int = Field(
        20, ge=1, description="How many federation requests one client address may burst."
    )
    key_fetch_host_rate: float = Field(
        0.1,
        ge=0,
        description="Fetches a second of unknown signing keys, per host (0: no limit).",
    )
    key_fetch_host_burst: int = Field(
        10, ge=1, description="How many unknown signing keys one host may make us fetch at once."
    )
    key_fetch_negative_seconds: int = Field(
        600, ge=1, description="A key (or host) whose fetch failed is not fetched for this long."
    )
    remote_actor_retention_hours: int = Field(
        1,
        ge=1,
        description="Cached actors that are not peers, followers or followed are kept this long.",
    )
    inbox_ignored_days: int = Field(
        7, ge=1, description="Ignored inbox records older than this are deleted."
    )
    inbox_ignored_max: int = Field(
        50_000, ge=1, description="At most this many ignored inbox records are kept (newest)."
    )
    follow_requests_max: int = Field(
        1_000,
        ge=1,
        description=(
            "At most this many follow requests (pending, rejected or undone) of actors "
            "outside PEERS are kept (newest)."
        ),
    )
    inbox_strangers_max: int = Field(
        20_000,
        ge=1,
        description=(
            "At most this many processed inbox activities of senders outside PEERS are "
            "kept (newest)."
        ),
    )
    cart_max_age_days: int = Field(
        30, ge=1, description="Anonymous carts untouched this long are purged."
    )

    @field_validator("peers", mode="before")
    @classmethod
    def _parse_peers(cls, value: object) -> object:
        return parse_peers(value) if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"BASE_URL {value!r} must be an http(s) origin like https://cart.example"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"BASE_URL {value!r} must be an origin only, with no path")
        return value.rstrip("/")

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"TIME_ZONE {value!r} is not an IANA time zone name like Europe/London"
            ) from None
        return value

    @field_validator("fulfilment_default")
    @classmethod
    def _check_fulfilment_default(cls, value: str) -> str:
        parse_default(value)  # raises ValueError saying what it takes
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                # never echo the value: it may hold the password
                raise ValueError(
                    "SMTP_URL must look like smtp://user:pass@host:587 or smtps://host"
                )
        return value if value is not None and value.get_secret_value() else None

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "_-." for c in value):
            raise ValueError("USERNAME may hold letters, digits, '_', '-' and '.' only")
        return value

    @model_validator(mode="after")
    def _one_payment_choice(self) -> Settings:
        if self.sumup_sandbox and (self.sumup_api_key is not None or self.sumup_api_url):
            raise ValueError(
                "ROSE_CART_SUMUP_SANDBOX=true serves the demo sandbox on this origin; it cannot "
                "be combined with ROSE_CART_SUMUP_API_KEY or ROSE_CART_SUMUP_API_URL: choose one"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url_for(self.data_dir)

    def database(self) -> Database:
        """The Database these settings describe, its pool sized and timed as they say."""
        return Database(
            self.resolved_database_url,
            pool_size=self.database_pool_size,
            pool_timeout=self.database_pool_timeout,
        )

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "secret_key"

    def secret(self) -> str:
        """SECRET_KEY from the environment, else the one kept in DATA_DIR."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.secret_file.is_file():
            return self.secret_file.read_text().strip()
        raise LookupError(
            f"no SECRET_KEY: set ROSE_CART_SECRET_KEY or run `rose-cart init` to create "
            f"{self.secret_file}"
        )

    def ensure_secret(self) -> bool:
        """Create DATA_DIR/secret_key (mode 0600) unless a secret exists. True if created."""
        if self.secret_key is not None or self.secret_file.is_file():
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.secret_file.touch(mode=0o600)
        self.secret_file.write_text(secrets.token_urlsafe(48))
        return True
