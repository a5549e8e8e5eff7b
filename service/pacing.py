"""Per-client pacing: the cheap first line in front of every path a stranger can drive.

The database quotas (``store/throttle.py``, ``cart/web/quotas.py``) are the budget every
process shares, but each refusal they give still costs a form parse, a cookie check and
a unit of work, and comes back fast: a client that asks again as soon as it is answered
(a closed loop) keeps the one event loop busy with cheap 429s while shoppers queue
behind them (``bench/hostile``, issue 14). Pacing decides from the method, the path and
the connection's address alone, before any session, form or database work, and makes
a client over its rate wait for its refusal.

Each rule is a GCRA (the "virtual scheduling" form of a token bucket): one float per
(rule, client), the time the client's next request is due. ``burst`` requests may come
at once, then one every ``every`` seconds. Over that, the answer is 429 with
``Retry-After`` (RFC 6585, section 4), **held back** for the time until the client would
be admitted again, at most ``MAX_HOLD`` seconds: like nginx's ``limit_req``, where
"excessive requests are delayed" so they are processed at the defined rate
(http://nginx.org/en/docs/http/ngx_http_limit_req_module.html), except that what we
delay is the refusal, not the work. A closed loop then runs at the rate, and holding
costs one timer: no body is read, nothing is stored. A client may have at most
``MAX_HELD_PER_CLIENT`` refusals held at once (and all clients ``MAX_HELD``); past that
the refusal is sent at once with ``Connection: close``.

Federation requests (POSTs to an inbox, signed GETs of the collections and activities)
are paced by one more rule, built from the settings (``federation_rule``): per client
address too, since a stranger may name a fresh actor, key or even host in every request
but sends them all from where it is. A request whose keyId claims a key on the origin of
one of our peers is paced by a budget ``PEER_KEY_FACTOR`` times larger (the claim is not
verified yet, so a stranger may make it: each such request costs a signature check and
a key-row lookup, so it cannot be free), leaving a peer's real traffic to the inbox's own
per-host budgets.

The client is the IPv4 address or the IPv6 /64 (one subscriber's usual allocation) of
``scope["client"]``, which uvicorn's ``proxy_headers`` set from a trusted proxy's
``X-Forwarded-For``, as the database quotas see it. State is this process's memory, at
most ``MAX_KEYS`` entries (least recently seen dropped first): with N processes a client
gets N times the rate, which is still a rate, and the shared budget stays in the
database. Time is read from the injected ``monotonic`` clock (docs/design.md, "Time").
The figures and why are in docs/security.md ("Paced before anything else").
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import re
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from actor.authorized import claimed_key_origin
from cart.web.quotas import too_many_text
from service.errors import problem_body, render_problem


@dataclass(frozen=True)
class Rule:
    """Up to ``burst`` requests at once, then one every ``every`` seconds, per client."""

    name: str
    burst: int
    every: float


# Rates no person, household behind one NAT, or SumUp reaches (docs/security.md).
# Login and checkout: burst and rate admit no more in one of the address's database quota
# windows than the quota does (LOGIN_ADDRESS 30 / 15 min: 10 + 900 / 45 = 30;
# CHECKOUT_ADDRESS 20 / 10 min: 6 + 600 / 45 = 19), so past it a refusal costs a timer,
# not a form parse, a cookie check and a unit of work. A household logs in a few times a
# day and places an order per shop's cart; honest clients never notice the difference.
LOGIN = Rule("login", 10, 45.0)
# Each admitted registration is an argon2 hash (about ten catalogue pages of CPU) and a
# row: three at once, then one every ten minutes an address (Mastodon allows 5 sign-ups
# per 30 minutes per address on its API, config/initializers/rack_attack.rb). Faster
# than that the database quota (REGISTER_ADDRESS, 10 an hour) would refuse anyway, at
# the price of a form parse and a unit of work; here it costs a timer.
REGISTER = Rule("register", 3, 600.0)
# A reset's request and the new password's form; the password chosen from a registration link.
PASSWORD = Rule("password", 5, 10.0)
CART = Rule("cart", 30, 1.0)  # add to the cart, change a quantity, accept a price, remove
CHECKOUT = Rule("checkout", 6, 45.0)  # place a page cart's order, pay an order again
RETURN = Rule("return", 10, 3.0)  # the page SumUp sends the shopper back to
WEBHOOK = Rule("webhook", 10, 1.0)  # SumUp's notices; it retries what we refuse
RULES = (LOGIN, REGISTER, PASSWORD, CART, CHECKOUT, RETURN, WEBHOOK)

_EXACT = {
    ("POST", "/login"): LOGIN,
    ("POST", "/register"): REGISTER,
    ("POST", "/password/forgot"): PASSWORD,
    ("POST", "/cart/lines"): CART,
    ("POST", "/webhooks/sumup"): WEBHOOK,
    ("GET", "/checkout/return"): RETURN,
    ("HEAD", "/checkout/return"): RETURN,
}
# The routes' own patterns: Starlette's ``{name}`` is ``[^/]+``; a ``row_id`` (cart/web/paths.py)
# is at most 18 digits, and paced here as any run of them.
_PATTERNS = (
    (re.compile(r"/password/reset/[^/]+"), PASSWORD),
    (re.compile(r"/register/finish/[^/]+"), PASSWORD),
    (re.compile(r"/cart/lines/[0-9]+/(?:quantity|accept-price|remove)"), CART),
    (re.compile(r"/cart/page/[^/]+/checkout"), CHECKOUT),
    (re.compile(r"/orders/[^/]+/pay"), CHECKOUT),
)

# Federation requests, paced only when the settings give a rate (``federation_rule``).
_INBOXES = frozenset({"/inbox", "/actor/inbox"})
_SIGNED_READS = frozenset({"/followers", "/following", "/actor/outbox"})

PEER_KEY_FACTOR = 25  # a claimed peer key's budget, in federation budgets
MAX_HOLD = 2.0  # seconds a refusal may be held back
MAX_HELD_PER_CLIENT = 8
MAX_HELD = 1000
MAX_KEYS = 20_000  # (rule, client) entries: about 2 MB at most


def rule_for(method: str, path: str) -> Rule | None:
    """The rule pacing this request, or None (every GET but the return page)."""
    found = _EXACT.get((method, path))
    if found is not None or method != "POST" or path in _INBOXES:
        return found  # an inbox POST, the busiest, is paced by the federation rule alone
    for pattern, rule in _PATTERNS:
        if pattern.fullmatch(path):
            return rule
    return None


def federation_rule(rate: float, burst: int) -> Rule | None:
    """Per client address: ``burst`` federation requests, then ``rate`` a second (None:
    no pacing, for rate 0)."""
    return Rule("federation", burst, 1 / rate) if rate > 0 else None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


def is_federation_request(scope: Scope) -> bool:
    """A POST to an inbox, or a signed GET of a collection or an activity."""
    method, path = scope["method"], scope["path"]
    if method == "POST":
        return path in _INBOXES
    if method not in ("GET", "HEAD"):
        return False
    if path not in _SIGNED_READS and not path.startswith("/activities/"):
        return False
    return _header(scope, b"signature") is not None or (
        _header(scope, b"signature-input") is not None
    )


def client_key(host: str) -> str:
    """The IPv4 address, or the /64 of an IPv6 one (an IPv4-mapped one is its IPv4)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address (a test client's name): itself
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


@dataclass(frozen=True)
class Refusal:
    """Over ``rule``'s rate: come back in ``retry_after`` s; held ``hold`` s first, or
    sent at once with ``Connection: close`` when ``close`` (too many held already)."""

    rule: Rule
    client: str
    retry_after: int
    hold: float
    close: bool


class Pacer:
    """The GCRA state of every (rule, client) seen lately, and the held refusals."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        hold: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rules: Callable[[str, str], Rule | None] = rule_for,
        max_hold: float = MAX_HOLD,
        max_keys: int = MAX_KEYS,
        max_held_per_client: int = MAX_HELD_PER_CLIENT,
        max_held: int = MAX_HELD,
        federation: Rule | None = None,
        peer_origins: frozenset[str] = frozenset(),
    ) -> None:
        self.monotonic, self.hold, self.rules = monotonic, hold, rules
        # Federation requests' rule, and the origins (scheme://host[:port], lower case)
        # whose claimed keys get the larger budget: our peers'.
        self.federation, self.peer_origins = federation, peer_origins
        self.peer_key = (
            Rule(
                "federation-peer-key",
                federation.burst * PEER_KEY_FACTOR,
                federation.every / PEER_KEY_FACTOR,
            )
            if federation is not None
            else None
        )
        self.max_hold, self.max_keys = max_hold, max_keys
        self.max_held_per_client, self.max_held = max_held_per_client, max_held
        self._due: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._held: Counter[str] = Counter()
        self.held = 0  # refusals being held back now, all clients
        extra = (federation, self.peer_key) if federation is not None and self.peer_key else ()
        rules_shown = (*RULES, *extra)
        self.refused: Counter[str] = Counter({rule.name: 0 for rule in rules_shown})

    @classmethod
    def off(cls) -> Pacer:
        """Pacing that paces nothing: for measuring or testing what lies behind it (the
        database quotas, the add path's own cost), never for serving."""
        return cls(rules=lambda method, path: None)

    def __len__(self) -> int:
        """How many (rule, client) entries are kept."""
        return len(self._due)

    def rule_for(self, scope: Scope) -> Rule | None:
        rule = self.rules(scope["method"], scope["path"])
        if rule is not None or self.federation is None or not is_federation_request(scope):
            return rule
        if claimed_key_origin(scope) in self.peer_origins:
            return self.peer_key
        return self.federation

    def check(self, scope: Scope) -> Refusal | None:
        """None to let the request through (counted), or why and how to refuse it."""
        rule = self.rule_for(scope)
        if rule is None:
            return None
        peer = scope.get("client")
        client = client_key(peer[0]) if peer else "unknown"
        now = self.monotonic()
        key = (rule.name, client)
        due = max(self._due.pop(key, now), now)
        early = due - now - rule.every * (rule.burst - 1)  # > 0: over the burst by this much
        if early <= 0:
            self._due[key] = due + rule.every
            if len(self._due) > self.max_keys:
                self._due.popitem(last=False)
            return None
        self._due[key] = due  # refusals are not counted: the client keeps its place
        self.refused[rule.name] += 1
        crowded = self._held[client] >= self.max_held_per_client or self.held >= self.max_held
        retry_after = max(1, math.ceil(early))
        return Refusal(rule, client, retry_after, min(early, self.max_hold), crowded)

    async def hold_back(self, refusal: Refusal) -> None:
        """Wait before a refusal is sent, counted among the client's held ones."""
        if refusal.close:
            return
        self._held[refusal.client] += 1
        self.held += 1
        try:
            await self.hold(refusal.hold)
        finally:
            self.held -= 1
            self._held[refusal.client] -= 1
            if self._held[refusal.client] <= 0:
                del self._held[refusal.client]

    async def refuse(self, refusal: Refusal, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 429 as the error handler would (problem+json, or the HTML page for a
        browser), after the hold. The request's body is never read."""
        await self.hold_back(refusal)
        body = problem_body(
            429,
            too_many_text(refusal.retry_after),
            scope["path"],
            paced=refusal.rule.name,
            retry_after=refusal.retry_after,
        )
        headers = {"Retry-After": str(refusal.retry_after)}
        if refusal.close:
            headers["Connection"] = "close"
        await render_problem(Request(scope), body, headers)(scope, receive, send)

    def exposition(self) -> Iterable[str]:
        """The refusals so far, in Prometheus text (appended to /metrics)."""
        name = "rose_cart_paced_refusals_total"
        yield (
            f"# HELP {name} Requests refused by per-client pacing, by rule, in this process "
            "since it started."
        )
        yield f"# TYPE {name} counter"
        for rule, count in sorted(self.refused.items()):
            yield f'{name}{{rule="{rule}"}} {count}'
