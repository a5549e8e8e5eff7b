"""Which payment provider this process uses: SumUp, the sandbox on request, or none.

- SumUp credentials (``SUMUP_API_KEY`` and ``SUMUP_MERCHANT_CODE``): real money, through
  SumUp's API (or whatever ``SUMUP_API_URL`` names, e.g. a sandbox process shared by a
  scale-out deployment).
- ``SUMUP_SANDBOX=true``: a demo. The SumUp sandbox (payments/sandbox) is mounted at
  /sumup-sandbox on our own origin, so its hosted page passes our CSP. It takes only a
  random key made at start-up (the client below is the only holder), redirects and calls
  back only to our origin, and sends its webhooks through our SSRF guard. Start-up warns.
- Neither: the shop refuses to take orders. Losing the key in production must never
  turn into "payments" that are not real and ``OrderPaid`` sent to peers: the provider is
  ``NotConfigured``, which refuses every call; checkout shows the shopper an error page,
  start-up logs an error naming the fix, and /readyz reports it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from actor.guard import guarded_transport, tls_context
from actor.identity import user_agent
from payments.provider import PaymentProvider
from payments.sandbox.app import create_sandbox_app
from payments.sandbox.state import SandboxSettings
from payments.sumup import SUMUP_API_URL, SumUpClient
from payments.unconfigured import NotConfigured
from service.settings import Settings
from store.held import outside_units

log = logging.getLogger("rose_cart.payments")
SANDBOX_PATH = "/sumup-sandbox"
SANDBOX_MERCHANT = "SANDBOX"
NOT_CONFIGURED_FIX = (
    "set ROSE_CART_SUMUP_API_KEY and ROSE_CART_SUMUP_MERCHANT_CODE to take payments, "
    "or ROSE_CART_SUMUP_SANDBOX=true for a demo where no real money moves"
)
NOT_CONFIGURED_MESSAGE = (
    "This shop cannot take orders right now: card payments are not set up. "
    f"Nothing was ordered and nothing was charged. (For the operator: {NOT_CONFIGURED_FIX}.)"
)


@dataclass
class Payments:
    settings: Settings
    mode: str  # "sumup" | "sandbox" | "not configured"
    sandbox: Starlette | None = None
    client: PaymentProvider | None = None
    _sandbox_key: str = field(default="", repr=False)
    _webhook_http: httpx.AsyncClient | None = field(default=None, repr=False)

    @classmethod
    def for_settings(cls, settings: Settings) -> Payments:
        if settings.sumup_api_key is not None:
            if not settings.sumup_merchant_code:
                raise ValueError(
                    "ROSE_CART_SUMUP_API_KEY is set but ROSE_CART_SUMUP_MERCHANT_CODE is not: "
                    "set both"
                )
            return cls(settings, "sumup")
        if not settings.sumup_sandbox:
            return cls(settings, "not configured")
        key = secrets.token_urlsafe(32)
        webhook_http = httpx.AsyncClient(
            transport=guarded_transport(allow_private=settings.allow_private_addresses),
            timeout=5.0,
        )
        sandbox = create_sandbox_app(
            SandboxSettings(
                api_keys=(key,),
                allowed_origins=(settings.base_url,),
                merchant_code=SANDBOX_MERCHANT,
                merchant_name="The co-op (SumUp sandbox: no real money)",
                public_url=f"{settings.base_url}{SANDBOX_PATH}",
            ),
            http=webhook_http,
        )
        return cls(settings, "sandbox", sandbox, None, key, webhook_http)

    @property
    def takes_orders(self) -> bool:
        return self.mode != "not configured"

    def routes(self) -> list[Mount]:
        return [Mount(SANDBOX_PATH, self.sandbox)] if self.sandbox is not None else []

    def _client(self, api_key: str, merchant_code: str, base_url: str) -> SumUpClient:
        """The provider's client (payments/wire.py). Its every call checks that no DB
        connection is held (store/held.py), whichever code calls the provider, not only
        the cart's call sites."""
        return SumUpClient(
            api_key=api_key,
            merchant_code=merchant_code,
            base_url=base_url,
            timeout=10.0,
            user_agent=user_agent(self.settings.base_url),
            tls=tls_context(),
            check=outside_units,
        )

    async def start(self) -> PaymentProvider:
        settings = self.settings
        if self.mode == "sumup":
            assert settings.sumup_api_key is not None and settings.sumup_merchant_code
            self.client = self._client(
                settings.sumup_api_key.get_secret_value(),
                settings.sumup_merchant_code,
                settings.sumup_api_url or SUMUP_API_URL,
            )
        elif self.sandbox is not None:
            log.warning(
                "ROSE_CART_SUMUP_SANDBOX is on: payments go to the built-in SumUp sandbox and "
                "no real money moves; never run a shop for real like this",
                extra={"sandbox": f"{settings.base_url}{SANDBOX_PATH}"},
            )
            await self.sandbox.state.sandbox.webhooks.start()
            self.client = self._client(
                self._sandbox_key, SANDBOX_MERCHANT, f"{settings.base_url}{SANDBOX_PATH}"
            )
        else:
            log.error(
                "no payment provider, so checkout refuses every order: %s", NOT_CONFIGURED_FIX
            )
            self.client = NotConfigured(NOT_CONFIGURED_MESSAGE, f"payments: {NOT_CONFIGURED_FIX}")
        return self.client

    async def stop(self) -> None:
        if isinstance(self.client, SumUpClient):
            await self.client.aclose()
        if self.sandbox is not None:
            await self.sandbox.state.sandbox.aclose()
        if self._webhook_http is not None:
            await self._webhook_http.aclose()
