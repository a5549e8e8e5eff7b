"""One running sandbox: its settings, its ledger and its webhook sender.

The sandbox is a demo part that may be served on a shop's public origin, so it trusts
nobody: every API call must carry one of the keys it was configured with (there is no
"accept any key" mode), a key sees only the checkouts it created, and the URLs it sends
browsers to (``redirect_url``) or calls back (``return_url``) must be on an allowed
origin (the shop's own, when mounted there). Webhook calls go through the HTTP client the
host gives it (the shop passes one behind its SSRF guard).

Tests reach it as ``app.state.sandbox`` to move the clock, read the webhook deliveries or
wait for delayed ones (``await sandbox.webhooks.drain()``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
from starlette.requests import Request

from payments.sandbox.ledger import DEFAULT_FAILING_AMOUNTS, Ledger, utc_now
from payments.sandbox.notify import WebhookSender


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) URL, lower-cased with the port spelled out;
    None for anything else (no host, another scheme, userinfo, a bad port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    port = port or (443 if scheme == "https" else 80)
    return f"{scheme}://{parts.hostname.lower()}:{port}"


def key_owner(api_key: str) -> str:
    """Who a key is, as the ledger records it: a digest, so no key is kept in the books."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SandboxSettings:
    """What one sandbox is configured with, built once by its host (the shop's service,
    ``python -m payments.sandbox``, a test).

    It takes only the Bearer ``api_keys`` (each sees only its own checkouts);
    ``redirect_url`` and ``return_url`` must be on one of ``allowed_origins``;
    ``merchant_code`` None accepts any merchant; ``public_url`` is where browsers reach it
    (else the request's own origin). ``webhook_shape`` is legacy, event, both or none;
    ``webhook_copies`` repeats each webhook; ``webhook_delay`` (seconds) sends them late.
    A payment of one of ``failing_amounts`` fails, as SumUp's test amounts do.
    """

    api_keys: tuple[str, ...]
    allowed_origins: tuple[str, ...] = ()
    merchant_code: str | None = None
    merchant_name: str = "Sandbox Merchant"
    public_url: str | None = None
    webhook_shape: str = "legacy"
    webhook_copies: int = 1
    webhook_delay: float = 0.0
    failing_amounts: frozenset[Decimal] = DEFAULT_FAILING_AMOUNTS


class Sandbox:
    """One sandbox's state. ``http`` is the client webhooks go through (the host's guarded
    one, when mounted in a shop); ``clock`` tells the ledger the time."""

    def __init__(
        self,
        settings: SandboxSettings,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        keys = settings.api_keys
        if isinstance(keys, str) or not keys or not all(keys):
            raise ValueError("the sandbox needs at least one non-empty API key")
        self.settings = settings
        self._owners = {key_owner(key): key for key in keys}
        self.allowed_origins: set[str] = set()
        for origin in settings.allowed_origins:
            self.allow_origin(origin)
        self.merchant_code = settings.merchant_code
        self.merchant_name = settings.merchant_name
        public_url = settings.public_url
        self.public_url = public_url.rstrip("/") if public_url else None
        self.ledger = Ledger(clock=clock, failing_amounts=settings.failing_amounts)
        self.webhooks = WebhookSender(
            shape=settings.webhook_shape,
            copies=settings.webhook_copies,
            delay=settings.webhook_delay,
            http=http,
            clock=clock,
        )

    def owner(self, token: str) -> str | None:
        """The ledger owner a Bearer token stands for, or None if it is not one of ours."""
        owner = key_owner(token)
        key = self._owners.get(owner)
        if key is None or not secrets.compare_digest(token.encode(), key.encode()):
            return None
        return owner

    def allow_origin(self, url: str) -> None:
        origin = origin_of(url)
        if origin is None:
            raise ValueError(f"{url!r} is not an http(s) origin")
        self.allowed_origins.add(origin)

    def allows(self, url: str) -> bool:
        """Whether the sandbox may send a browser to ``url`` or call it back."""
        origin = origin_of(url)
        return origin is not None and origin in self.allowed_origins

    def origin(self, request: Request) -> str:
        """Where browsers reach this sandbox: the configured public URL, else the request's
        scheme and host plus the path it is mounted under (``root_path``)."""
        if self.public_url:
            return self.public_url
        root_path = request.scope.get("root_path", "")
        return str(request.url.replace(path=root_path, query="", fragment="")).rstrip("/?#")

    async def aclose(self) -> None:
        """Close the webhook client; for hosts that mount the app (mounted apps get no
        lifespan of their own)."""
        await self.webhooks.aclose()

    @staticmethod
    def hosted_url(origin: str, checkout_id: str) -> str:
        return f"{origin}/pay/{checkout_id}"
