"""Which payment provider this process uses: SumUp with credentials, else the sandbox.

Without SumUp credentials no real money moves: the SumUp sandbox (payments/sandbox) is
mounted at /sumup-sandbox on our own origin, so its hosted page passes our CSP, and the
same SumUp client talks to it. Start-up says so in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from payments.sandbox.app import create_sandbox_app
from payments.sumup import SUMUP_API_URL, SumUpClient
from service.settings import Settings

log = logging.getLogger("rose_cart.payments")
SANDBOX_PATH = "/sumup-sandbox"


@dataclass
class Payments:
    settings: Settings
    sandbox: Starlette | None
    client: SumUpClient | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> Payments:
        if settings.sumup_api_key is not None:
            if not settings.sumup_merchant_code:
                raise ValueError(
                    "ROSE_CART_SUMUP_API_KEY is set but ROSE_CART_SUMUP_MERCHANT_CODE is not: "
                    "set both"
                )
            return cls(settings, None)
        sandbox = create_sandbox_app(
            merchant_code="SANDBOX",
            merchant_name="The co-op (SumUp sandbox: no real money)",
            public_url=f"{settings.base_url}{SANDBOX_PATH}",
        )
        return cls(settings, sandbox)

    def routes(self) -> list[Mount]:
        return [Mount(SANDBOX_PATH, self.sandbox)] if self.sandbox is not None else []

    async def start(self) -> SumUpClient:
        settings = self.settings
        if self.sandbox is None:
            assert settings.sumup_api_key is not None and settings.sumup_merchant_code
            self.client = SumUpClient(
                api_key=settings.sumup_api_key.get_secret_value(),
                merchant_code=settings.sumup_merchant_code,
                base_url=settings.sumup_api_url or SUMUP_API_URL,
            )
        else:
            log.warning(
                "no SumUp credentials: payments go to the built-in sandbox, no real money moves",
                extra={"sandbox": f"{settings.base_url}{SANDBOX_PATH}"},
            )
            await self.sandbox.state.sandbox.webhooks.start()
            self.client = SumUpClient(
                api_key="sandbox",
                merchant_code="SANDBOX",
                base_url=settings.sumup_api_url or f"{settings.base_url}{SANDBOX_PATH}",
            )
        return self.client

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.sandbox is not None:
            await self.sandbox.state.sandbox.aclose()
