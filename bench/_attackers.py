"""The stranger of issue 14, money side: each abusive pattern as a bounded loop over HTTP.

Shared by `bench/hostile.py` (what a shopper notices while each runs) and the hostile-load
test (tests/service/test_hostile_load.py: a purchase completes with no 5xx). Every client
here speaks to a shop on loopback from an address of its own (127.0.0.0/8 is all
loopback on Linux), so the per-address quotas an attacker exhausts are not the shopper's.

Patterns: password guessing on one account, a registration flood, a checkout flood,
return-page and webhook floods for one checkout, and probing the demo sandbox (made-up
keys, a foreign redirect_url); and, from bench/_federation_attacks.py, unknown key ids,
heavy JSON-LD, Likes from minted actors and followers read under an unknown key. Each
counts every status it is answered into `seen` as the answer arrives (so a caller that
snapshots the counter counts what was answered in its window, not whole rounds) and
returns it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

import httpx

from bench._federation_attacks import FEDERATION_ATTACKS
from bench.harness import counting

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ORDER = re.compile(r"order=(RA-[A-Za-z0-9-]+)")


@dataclass(frozen=True)
class Target:
    origin: str
    item: str  # a catalogue item id the shop sells
    page_key: str  # the page cart that item lands in
    victim: str = "victim@example.org"


def client(target: Target, address: str, seen: Counter[int] | None = None) -> httpx.AsyncClient:
    """A browser-like client whose connections come from `address` (a loopback address),
    counting every status it is answered into `seen`."""
    transport = httpx.AsyncHTTPTransport(local_address=address, retries=0)
    return httpx.AsyncClient(
        base_url=target.origin,
        transport=transport,
        timeout=30,
        headers={"Accept": "text/html"},
        event_hooks=counting(seen),
    )


def csrf(html: str) -> str:
    match = _CSRF.search(html)
    return match.group(1) if match else ""


async def login_guessing(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    async with client(target, address, seen) as http:
        token = csrf((await http.get("/login")).text)
        for n in range(rounds):
            await http.post(
                "/login",
                data={"csrf_token": token, "email": target.victim, "password": f"guess-{n:06d}"},
            )
    return seen


async def register_flood(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    async with client(target, address, seen) as http:
        token = csrf((await http.get("/register")).text)
        for _ in range(rounds):
            await http.post(
                "/register",
                # E-mail first: the form takes an address only (the password is chosen
                # from the mailed link, which a bot never reads).
                data={"csrf_token": token, "email": f"bot-{uuid.uuid4().hex[:12]}@example.org"},
            )
    return seen


async def checkout_flood(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    async with client(target, address, seen) as http:
        token = csrf((await http.get("/")).text)
        for _ in range(rounds):
            await http.post(
                "/cart/lines", data={"csrf_token": token, "item": target.item, "quantity": "1"}
            )
            await http.post(f"/cart/page/{target.page_key}/checkout", data={"csrf_token": token})
    return seen


async def provider_hint_flood(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    """One order of the attacker's own, then its return page and webhooks (its checkout and
    made-up ones) over and over: each used to cost a provider call."""
    seen = Counter() if seen is None else seen
    async with client(target, address, seen) as http:
        token = csrf((await http.get("/")).text)
        await http.post(
            "/cart/lines", data={"csrf_token": token, "item": target.item, "quantity": "1"}
        )
        placed = await http.post(
            f"/cart/page/{target.page_key}/checkout", data={"csrf_token": token}
        )
        hosted = placed.headers.get("location", "")
        checkout_id = hosted.rstrip("/").rsplit("/", 1)[-1] if "/pay/" in hosted else "none"
        number = ""
        if hosted:
            page = await http.get(hosted)
            found = _ORDER.search(page.text)
            number = found.group(1) if found else ""
        for n in range(rounds):
            await asyncio.gather(
                http.get("/checkout/return", params={"order": number}),
                http.post(
                    "/webhooks/sumup",
                    json={"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout_id},
                ),
                http.post(
                    "/webhooks/sumup",
                    json={"event_type": "CHECKOUT_STATUS_CHANGED", "id": f"made-up-{n}"},
                ),
            )
    return seen


async def sandbox_probing(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    async with client(target, address, seen) as http:
        for n in range(rounds):
            auth = {"Authorization": f"Bearer guessed-{n}"}
            await http.get("/sumup-sandbox/v0.1/checkouts", headers=auth)
            await http.post(
                "/sumup-sandbox/v0.1/checkouts",
                headers=auth,
                json={
                    "checkout_reference": f"x{n}",
                    "amount": 1,
                    "currency": "EUR",
                    "merchant_code": "SANDBOX",
                    "redirect_url": "https://evil.example/",
                },
            )
    return seen


class Attack(Protocol):
    """`rounds` of one pattern from `address`, each answer counted into `seen` (a fresh
    counter when None) as it arrives; returns the counter."""

    def __call__(
        self, target: Target, address: str, rounds: int, seen: Counter[int] | None = None
    ) -> Awaitable[Counter[int]]: ...


ATTACKS: dict[str, Attack] = {
    "login-guessing": login_guessing,
    "register-flood": register_flood,
    "checkout-flood": checkout_flood,
    "provider-hint-flood": provider_hint_flood,
    "sandbox-probing": sandbox_probing,
    **FEDERATION_ATTACKS,  # signed abuse of the inbox and collections
}


async def purchase(target: Target, address: str) -> tuple[bool, list[int]]:
    """A shopper buys the item and pays on the sandbox's hosted page; (paid?, every status
    the shop answered them)."""
    statuses: list[int] = []

    async def step(answer: httpx.Response) -> httpx.Response:
        statuses.append(answer.status_code)
        return answer

    async with client(target, address) as http:
        token = csrf((await step(await http.get("/"))).text)
        await step(
            await http.post(
                "/cart/lines", data={"csrf_token": token, "item": target.item, "quantity": "1"}
            )
        )
        await step(await http.get(f"/cart/page/{target.page_key}"))
        placed = await step(
            await http.post(f"/cart/page/{target.page_key}/checkout", data={"csrf_token": token})
        )
        hosted = placed.headers.get("location", "")
        if "/pay/" not in hosted:
            return False, statuses
        page = await step(await http.get(hosted))
        form = re.search(r'name="token" value="([^"]+)"', page.text)
        paid = await step(
            await http.post(hosted, data={"token": form.group(1) if form else "", "action": "pay"})
        )
        back = await step(await http.get(paid.headers.get("location", "/")))
        return "is paid" in back.text, statuses
