"""``create_sandbox_app``: the SumUp sandbox as a Starlette app.

Routes (the SumUp subset rose-cart uses, plus the hosted page):

    POST /v0.1/checkouts                                              create
    GET  /v0.1/checkouts?checkout_reference=...                       list / find
    GET  /v0.1/checkouts/{checkout_id}                                fetch
    POST /v1.0/merchants/{merchant_code}/payments/{transaction_id}/refunds
    GET  /v2.1/merchants/{merchant_code}/transactions?id=...
    GET  /pay/{checkout_id}, POST /pay/{checkout_id}                  hosted checkout page
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from payments.sandbox import api, hosted
from payments.sandbox.ledger import DEFAULT_FAILING_AMOUNTS, utc_now
from payments.sandbox.state import Sandbox


def create_sandbox_app(
    *,
    api_key: str | Iterable[str],
    allowed_origins: Iterable[str] = (),
    http: httpx.AsyncClient | None = None,
    merchant_code: str | None = None,
    merchant_name: str = "Sandbox Merchant",
    public_url: str | None = None,
    webhook_shape: str = "legacy",
    webhook_copies: int = 1,
    webhook_delay: float = 0.0,
    failing_amounts: Iterable[Decimal] = DEFAULT_FAILING_AMOUNTS,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """A sandbox app. It takes only the Bearer ``api_key`` (or any of several: each sees only
    its own checkouts); ``redirect_url`` and ``return_url`` must be on one of
    ``allowed_origins``; webhooks go through ``http`` when given (the host's guarded client).
    ``merchant_code`` None accepts any merchant. ``webhook_shape`` is legacy, event, both or none;
    ``webhook_copies`` repeats each webhook; ``webhook_delay`` (seconds) sends them late.
    The ``Sandbox`` is ``app.state.sandbox``."""
    sandbox = Sandbox(
        api_key=api_key,
        allowed_origins=allowed_origins,
        http=http,
        merchant_code=merchant_code,
        merchant_name=merchant_name,
        public_url=public_url,
        webhook_shape=webhook_shape,
        webhook_copies=webhook_copies,
        webhook_delay=webhook_delay,
        failing_amounts=failing_amounts,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.webhooks.start()
        try:
            yield
        finally:
            await sandbox.webhooks.aclose()

    routes = [
        Route("/v0.1/checkouts", api.create_checkout, methods=["POST"]),
        Route("/v0.1/checkouts", api.list_checkouts, methods=["GET"]),
        Route("/v0.1/checkouts/{checkout_id}", api.get_checkout, methods=["GET"]),
        Route(
            "/v1.0/merchants/{merchant_code}/payments/{transaction_id}/refunds",
            api.refund_transaction,
            methods=["POST"],
        ),
        Route("/v2.1/merchants/{merchant_code}/transactions", api.get_transaction, methods=["GET"]),
        Route("/pay/{checkout_id}", hosted.show, methods=["GET"]),
        Route("/pay/{checkout_id}", hosted.submit, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app
