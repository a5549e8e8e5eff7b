"""The return page and SumUp's webhook ask the provider about a checkout: sparingly.

Both are hints anyone can send as often as they like (the webhook is unsigned; the return
page is a GET), and each used to cost one call to the payment provider. Now, per order:

- at most one provider call is in flight in this process: a request that arrives while
  one is running waits for it and uses its outcome (coalescing);
- across processes, at most one call per ``PROVIDER_CHECKOUT`` window (the database
  throttle): a hint inside the window calls nobody. The return page then shows what we
  know; the webhook answers 429 with Retry-After, so SumUp tries again later. The
  reconciler loop covers whatever a skipped hint would have found. Once the throttle
  has said no, the process remembers until when (``Refusals``, store/throttle.py), so
  the hints after it cost no unit of work either.

No database session is held across the provider call (``reconcile`` opens its own short
units of work around it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from cart.orders.reconcile import reconcile
from cart.web.quotas import PROVIDER_CHECKOUT
from payments import PaymentError
from store.throttle import Refusals, Throttled, take

log = logging.getLogger("rose_cart.cart.provider_calls")


class ProviderCalls:
    """One process's calls in flight, by order id."""

    def __init__(self) -> None:
        self._in_flight: dict[int, asyncio.Future[None]] = {}
        self._refused = Refusals()

    async def reconcile(
        self, state: Any, order_id: int, now: datetime
    ) -> Throttled | PaymentError | None:
        """Bring the order in line with the provider, unless a call for it is running (then
        wait for that one) or was made within the window (then Throttled, nothing done).
        A provider failure is logged and returned: the caller decides what it means."""
        running = self._in_flight.get(order_id)
        if running is not None:
            await asyncio.shield(running)
            return None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight[order_id] = done
        try:
            checks = [(PROVIDER_CHECKOUT, str(order_id))]
            over = self._refused.over(checks, now)
            if over is not None:
                return over
            taken: Throttled | None = await state.db.write(take, checks, now)
            if taken is not None:
                self._refused.remember(taken, checks)
                return taken
            try:
                await reconcile(state.db, state.payment_provider, order_id, state.actor, now=now)
            except PaymentError as error:
                log.warning("could not reconcile", extra={"order": order_id, "detail": str(error)})
                return error
            return None
        finally:
            del self._in_flight[order_id]
            done.set_result(None)


def provider_calls(state: Any) -> ProviderCalls:
    calls = getattr(state, "provider_calls", None)
    if calls is None:
        calls = state.provider_calls = ProviderCalls()
    return calls
