"""What each anonymous path may cost us: the shop's quotas, and the gate in front of them.

A stranger can drive login, registration and checkout as often as they like, and each
costs real work: argon2 (tens of milliseconds of CPU by design), a mail, an order with
its delivery to every follower, a checkout at the payment provider. Each is counted per
client address and per account (or cart) in the database (``store.throttle``), so every
web process shares the budget. Over it the answer is 429 with ``Retry-After`` (an HTML
page for browsers, problem+json for API clients, by the service's error handler) and
nothing else happens: no hash, no row, no provider call.

``admit`` is the gate in front of costly work: it checks the form's CSRF token (a forged
form must not spend argon2 either) with no database work, then one short unit of work
checks and counts the attempt and may read what the costly step needs. That unit commits
before the costly step runs, so no database connection is held across it. Under
concurrency two requests may both see the last free slot: the overshoot is bounded by
how many arrive at that same instant.

A bucket the database has found over its quota stays over until its oldest counted event
leaves the window: nothing can be counted meanwhile (refusals are not), so the process
remembers it (``WebConfig.refusals``, a ``store.throttle.Refusals``) and refuses the next
attempts on it with no unit of work. A guesser's later tries then cost a form parse and
a cookie check. The one way a bucket empties early is ``forget`` after a success, which
only a check that was not refused can reach: a device's bucket (a success gives the device
a new one anyway) or a logged-in shopper's own.

argon2 runs in a worker thread, one at a time per process (``argon2``): password work
queued by a crowd waits its turn without a database connection, and the event loop keeps
a core for everyone else's pages.

The client address is the connection's (``request.client``): behind a reverse proxy,
uvicorn's ``proxy_headers`` with ``FORWARDED_ALLOW_IPS`` make it the real one (see
docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from cart.identity.sessions import COOKIE_NAME
from cart.web.config import web_config
from cart.web.csrf import FIELD_NAME
from store.throttle import Check, Quota, Throttled, take

T = TypeVar("T")

# Password guesses. OWASP's device cookies (cart/identity/devices.py): a browser that has
# logged in to the account before is counted on its own (LOGIN_DEVICE, so nobody else can
# use its guesses up); every other attempt shares one budget per account (LOGIN_UNTRUSTED:
# a guesser spread over a botnet gets 5 a quarter of an hour in all, not 5 an address),
# and each address has one over all accounts. A success clears its device's count only:
# the untrusted budget keeps what strangers spent, so logging in does not give them more.
# The untrusted budget is spent 3 at once at most, then one more every 5 minutes: a wrong
# password is a whole argon2 run (12 catalogue pages of CPU), and what a guesser can make
# us compute in a few seconds is what a shopper's page waits behind. A person on a new
# browser gets three quick tries; the quarter hour still allows 5.
LOGIN_DEVICE = Quota("login-device", 5, timedelta(minutes=15))
LOGIN_UNTRUSTED = Quota(
    "login-untrusted", 5, timedelta(minutes=15), burst=3, burst_window=timedelta(minutes=5)
)
LOGIN_ADDRESS = Quota("login-address", 30, timedelta(minutes=15))
# Reset mails asked for one address, per e-mail (RESET_MAIL bounds the mails themselves).
LOGIN_ACCOUNT = Quota("login-account", 50, timedelta(minutes=15))


def login_checks(email_key: str, address: str, device: str | None = None) -> list[Check]:
    """The quotas of a password guess at the account ``email_key`` from ``address``, by the
    device cookie's nonce ``device`` when the browser brought one for this account. The
    first check is the one a success clears."""
    own = (LOGIN_DEVICE, device) if device else (LOGIN_UNTRUSTED, email_key)
    return [own, (LOGIN_ADDRESS, address)]


# Registrations: each stores a pending registration and sends a mail (no argon2: the
# password is chosen from the mailed link). REGISTER_ACCOUNT, per mailbox (`mailbox_key`:
# case-folded, without a +tag), is also the bound on mails to one recipient (3 an hour,
# whoever asks), so the form cannot be used to flood a mailbox. Per client address is not
# enough: a stranger with many addresses (an IPv6 /64 has plenty) could make us mail many
# strangers. REGISTER_ALL is the whole shop's budget, shared by every process: at most 30
# registration mails per 10 minutes, which also bounds the pending table. Over it,
# registering waits for everyone (guest checkout does not need an account, so nobody is
# kept from buying); a co-op's shop sees a few registrations a day.
REGISTER_ACCOUNT = Quota("register-account", 3, timedelta(hours=1))
REGISTER_ADDRESS = Quota("register-address", 10, timedelta(hours=1))
REGISTER_ALL = Quota("register-all", 30, timedelta(minutes=10))
ALL = "*"  # the key of a quota counted for the whole shop


def register_checks(mailbox_key: str, address: str) -> list[Check]:
    return [(REGISTER_ACCOUNT, mailbox_key), (REGISTER_ADDRESS, address), (REGISTER_ALL, ALL)]


# Setting a new password from a reset link: a hash each, so counted like a login from
# that address and per account the link names (a link is good for one use anyway).
RESET_ACCOUNT = Quota("reset-account", 5, timedelta(minutes=15))
# Reset mails to one mailbox (`mailbox_key`, as REGISTER_ACCOUNT), whoever asks: over
# it the forgot form answers the same page and queues no mail, so it reveals nothing.
RESET_MAIL = Quota("reset-mail", 3, timedelta(hours=1))
# Orders: each is a row, a Create(Order) to every follower and a provider checkout.
CHECKOUT_CART = Quota("checkout-cart", 5, timedelta(minutes=10))
CHECKOUT_ADDRESS = Quota("checkout-address", 20, timedelta(minutes=10))
# Provider calls a return page or a webhook may cause, per checkout (coalesced as well).
PROVIDER_CHECKOUT = Quota("provider-checkout", 6, timedelta(minutes=1))

TOO_MANY = (
    "Too many attempts in a short time, so this one was not tried and nothing changed. "
    "Please try again in {wait}."
)


async def argon2(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run password hashing or verification off the event loop, one at a time here."""
    state = request.app.state
    limiter = getattr(state, "password_limiter", None)
    if limiter is None:
        limiter = state.password_limiter = CapacityLimiter(1)
    return await to_thread.run_sync(work, *args, limiter=limiter)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# What a refusal says where waiting is not the only way on.
_SAYS = {
    LOGIN_UNTRUSTED.name: (
        "Too many wrong passwords for this account from browsers it has not logged in "
        "from, so this one was not tried. Browsers where you have logged in before still "
        'can. Please try again in {wait}, or use "Forgotten password" to get a link by '
        "mail."
    ),
}


# Where that other way is: a link on the page (and a member of the problem+json).
_HELP = {LOGIN_UNTRUSTED.name: {"href": "/password/forgot", "title": "Forgotten password"}}


def _wait(seconds: int) -> str:
    """How long a person waits, in words: "1 second", "40 seconds", "5 minutes"."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minutes"


def too_many_text(retry_after: int) -> str:
    """What a refusal over any quota says, with how long to wait."""
    return TOO_MANY.format(wait=_wait(retry_after))


def too_many(over: Throttled) -> HTTPException:
    says = _SAYS.get(over.quota.name, TOO_MANY).format(wait=_wait(over.retry_after))
    exc = HTTPException(429, says, headers={"Retry-After": str(over.retry_after)})
    extra: dict[str, object] = {"quota": over.quota.name, "retry_after": over.retry_after}
    if over.quota.name in _HELP:
        extra["help"] = _HELP[over.quota.name]
    exc.extra = extra  # type: ignore[attr-defined]
    return exc


def _admit(
    session: Session, checks: list[Check], read: Callable[[Session], T] | None, now: datetime
) -> tuple[Throttled | None, T | None]:
    """The unit of ``admit``: count the attempt if every quota allows it, then read."""
    over = take(session, checks, now)
    if over is not None or read is None:
        return over, None
    return None, read(session)


async def admit(
    request: Request,
    form: FormData,
    checks: list[Check],
    read: Callable[[Session], T] | None = None,
) -> tuple[bool, T | None]:
    """(True, what the unit ``read`` found) once the attempt is counted; (False, None) when
    the form's CSRF token is wrong (the form action then answers 403 itself). Raises the
    429 HTTPException, having changed nothing, when any check is over its quota.

    The CSRF token is checked against the cookie's session id alone, before any database
    work: a forged form costs nothing. (The form action checks it again on the session it
    resolves.)"""
    config = web_config(request)
    shopper = config.cookies.decode(request.cookies.get(COOKIE_NAME))
    if shopper is None or not config.csrf.is_valid(shopper.sid, form.get(FIELD_NAME)):
        return False, None
    now, refusals = config.clock(), config.refusals
    over = refusals.over(checks, now)
    if over is not None:
        raise too_many(over)
    over, found = await request.app.state.db.write(_admit, checks, read, now)
    if over is not None:
        refusals.remember(over, checks)
        raise too_many(over)
    return True, found
