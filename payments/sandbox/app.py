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

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from payments.sandbox import api, hosted
from payments.sandbox.ledger import utc_now
from payments.sandbox.state import Sandbox, SandboxSettings


def create_sandbox_app(
    settings: SandboxSettings,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """A sandbox app configured by ``settings`` (``SandboxSettings``); webhooks go through
    ``http`` when given (the host's guarded client). The ``Sandbox`` is
    ``app.state.sandbox``."""
    sandbox = Sandbox(settings, http=http, clock=clock)

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
