"""The sandbox's webhook calls to a checkout's ``return_url``.

Shapes (see ``payments.webhooks`` for the documented bodies): ``legacy``
(CHECKOUT_STATUS_CHANGED), ``event`` (checkout.status.updated envelope), ``both`` (one of
each), or ``none`` (a lost webhook). ``copies`` > 1 repeats every body (SumUp retries and
may deliver twice); ``delay`` > 0 sends them later, in the background, so the browser can
reach the shop's return page first. Immediate webhooks are sent before the hosted page
answers, like a provider that notifies the server before redirecting the browser.

The HTTP client is the host's to give: the shop passes one whose transport is its SSRF
guard, so a webhook can never reach an address the shop itself would refuse. Without one
the sender makes its own plain client (the standalone sandbox, tests on loopback).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

log = logging.getLogger(__name__)

WebhookShape = Literal["legacy", "event", "both", "none"]
WEBHOOK_SHAPES: tuple[str, ...] = ("legacy", "event", "both", "none")


def webhook_bodies(
    shape: str, *, checkout_id: str, reference: str, status: str, now: datetime
) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    if shape in ("legacy", "both"):
        bodies.append({"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout_id})
    if shape in ("event", "both"):
        bodies.append(
            {
                "id": secrets.token_hex(16),
                "event_type": "checkout.status.updated",
                "payload": {"checkout_id": checkout_id, "reference": reference, "status": status},
                "timestamp": now.isoformat(timespec="milliseconds"),
            }
        )
    return bodies


@dataclass(frozen=True)
class WebhookCall:
    """One webhook call and what came of it (``status`` None: it never got an answer)."""

    url: str
    body: dict[str, Any]
    status: int | None


class WebhookSender:
    def __init__(
        self,
        *,
        shape: str = "legacy",
        copies: int = 1,
        delay: float = 0.0,
        timeout: float = 5.0,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        if shape not in WEBHOOK_SHAPES:
            raise ValueError(f"webhook shape must be one of {', '.join(WEBHOOK_SHAPES)}")
        if copies < 1:
            raise ValueError("webhook copies must be at least 1")
        self.shape = shape
        self.copies = copies
        self.delay = delay
        self.clock = clock
        self.deliveries: list[WebhookCall] = []
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = http
        self._owns_http = http is None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    async def drain(self) -> None:
        """Wait for every delayed webhook already scheduled (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def notify(
        self, url: str | None, *, checkout_id: str, reference: str, status: str
    ) -> None:
        if not url or self.shape == "none":
            return
        bodies = webhook_bodies(
            self.shape,
            checkout_id=checkout_id,
            reference=reference,
            status=status,
            now=self.clock(),
        )
        bodies = [body for body in bodies for _ in range(self.copies)]
        if self.delay > 0:
            task = asyncio.create_task(self._send_later(url, bodies))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            for body in bodies:
                await self._send(url, body)

    async def _send_later(self, url: str, bodies: list[dict[str, Any]]) -> None:
        await asyncio.sleep(self.delay)
        for body in bodies:
            await self._send(url, body)

    async def _send(self, url: str, body: dict[str, Any]) -> None:
        if self._http is None:
            # Mounted inside another app the sandbox's lifespan never runs: start lazily.
            await self.start()
        assert self._http is not None
        status: int | None = None
        try:
            response = await self._http.post(url, json=body, timeout=self._timeout)
            status = response.status_code
        except Exception as error:  # noqa: BLE001 - a refused address (the host's guard)
            # or any network failure is the same to a provider: the webhook got no answer.
            log.warning("sandbox webhook to %s failed: %s", url, type(error).__name__)
        self.deliveries.append(WebhookCall(url, body, status))
