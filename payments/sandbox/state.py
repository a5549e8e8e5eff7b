"""One running sandbox: its settings, its ledger and its webhook sender.

Tests reach it as ``app.state.sandbox`` to move the clock, read the webhook deliveries or
wait for delayed ones (``await sandbox.webhooks.drain()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from starlette.requests import Request

from payments.sandbox.ledger import DEFAULT_FAILING_AMOUNTS, Ledger, utc_now
from payments.sandbox.notify import WebhookSender


class Sandbox:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        merchant_code: str | None = None,
        merchant_name: str = "Sandbox Merchant",
        public_url: str | None = None,
        webhook_shape: str = "legacy",
        webhook_copies: int = 1,
        webhook_delay: float = 0.0,
        failing_amounts: Iterable[Decimal] = DEFAULT_FAILING_AMOUNTS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if api_key is not None and not api_key:
            raise ValueError("api_key must be None (accept any) or a non-empty key")
        self.api_key = api_key
        self.merchant_code = merchant_code
        self.merchant_name = merchant_name
        self.public_url = public_url.rstrip("/") if public_url else None
        self.ledger = Ledger(clock=clock, failing_amounts=failing_amounts)
        self.webhooks = WebhookSender(
            shape=webhook_shape, copies=webhook_copies, delay=webhook_delay
        )

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
