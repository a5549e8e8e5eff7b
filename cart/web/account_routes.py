"""Register, log in, log out. Logging in rotates the session and adopts the anonymous cart.

Registration is e-mail first (cart.identity.registrations). `POST /register` takes only
an address and always answers the same "check your mail" page (no enumeration): in one
unit of work it counts the attempt against the registration quotas (cart.web.quotas; the
per-address one is also the bound on mails to one recipient) and, for a new address,
stores a pending registration (the hash of a random token) and queues the mail with the
link; for a known one it queues a mail telling the owner that someone tried. No argon2
runs there. The link (`/register/finish/{token}`, valid a day, once) shows a form to
choose the password; its POST runs as login does: the CSRF token, the quotas and the
token checked in one short unit (`admit`), argon2 in a thread with no unit open, then
one unit that uses the token, creates the account (its address already verified: the
mail reached its owner) and logs the shopper in, adopting the anonymous cart.

Login runs in the same three steps: a short unit that checks the CSRF token and the
quotas, counts the attempt and reads the stored hash; argon2 in a thread with no database
session open; then, for a right password only, one write unit that confirms the hash is
still the account's, forgets the device's failures, revokes the old session, adopts the
anonymous cart and its orders and starts the new session (`_log_in`). A wrong password
writes nothing more. Over a quota: 429, and argon2 is never run. Every handler here
runs on units (`unit_page`, `unit_form`): none holds an async session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cart.basket.carts import adopt_cart
from cart.identity.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    Account,
    AccountView,
    Credentials,
    InvalidCredentials,
    InvalidRegistration,
    check_email,
    check_password,
    confirm_login,
    email_key,
    find_credentials,
    mailbox_key,
)
from cart.identity.registrations import (
    LINK_LIFETIME,
    Finished,
    finish_registration,
    new_token,
    pending_email,
    start_registration,
    token_hash,
)
from cart.identity.sessions import ShopperSession, log_in_sync, log_out_sync
from cart.orders.orders import adopt_orders
from cart.web.config import web_config
from cart.web.mails import registration_mail
from cart.web.quotas import (
    LOGIN_ADDRESS,
    RESET_ACCOUNT,
    admit,
    argon2,
    client_address,
    login_checks,
    register_checks,
    too_many,
)
from cart.web.shop import item_count_sync
from cart.web.visit import (
    Page,
    ShopperVisit,
    read_form,
    redirect,
    safe_next,
    unit_form,
    unit_page,
)
from mail.queue import insert_mail, is_address, mail_row
from mail.sender import Rendered
from store.throttle import Check, Throttled, forget, take

FINISH_PATH = "/register/finish"
LINK_HOURS = int(LINK_LIFETIME.total_seconds()) // 3600
INVALID_EMAIL = "Please enter a valid email address, like name@example.org."


def _text(form: FormData, name: str, limit: int = 2048) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _register_page(email: str = "", error: str | None = None, status: int = 200) -> Page:
    context = {"email": email, "error": error}
    return Page("register.html", context, title="Create an account", status=status)


def _login_page(email: str = "", error: str | None = None, status: int = 200) -> Page:
    return Page("login.html", {"email": email, "error": error}, title="Log in", status=status)


@dataclass(frozen=True)
class _Started:
    """A new login as its unit left it: the session, and what joined the account's cart."""

    account: AccountView
    shopper: ShopperSession
    carried: int  # items the anonymous cart held
    changes: list[str]  # what merging the two carts changed, a sentence each


def _start_session(
    session: Session, shopper: ShopperSession, account: AccountView, now: datetime
) -> _Started:
    """In the unit that logs in: a new session id for the account (the old one revoked);
    the anonymous cart's lines and the orders placed from it become the account's."""
    anonymous_cart = shopper.cart_id
    carried = item_count_sync(session, shopper) if anonymous_cart else 0
    if shopper.logged_in:
        log_out_sync(session, shopper)
    changes = adopt_cart(session, anonymous_cart, account.id, now=now) if anonymous_cart else []
    if anonymous_cart:  # orders placed before logging in stay the shopper's
        adopt_orders(session, anonymous_cart, account.id)
    return _Started(account, log_in_sync(session, account.id, now), carried, changes)


def _welcome(visit: ShopperVisit, started: _Started) -> None:
    """The visit goes on as the new session, and says what happened to the cart."""
    visit.rotate(started.shopper, started.account)
    visit.flash.append(f"You are logged in as {started.account.email}.")
    if started.carried:
        things = "item" if started.carried == 1 else "items"
        visit.flash.append(
            f"The {started.carried} {things} from your cart are now in your account's cart."
        )
    visit.flash.extend(started.changes)


def _log_in(
    session: Session,
    checked: Credentials,
    new_hash: str | None,
    forgotten: list[Check],
    shopper: ShopperSession,
    now: datetime,
) -> _Started | None:
    """A unit, after argon2 said yes: the account if it still has the password argon2
    checked (None: changed or gone meanwhile), its device's failures forgotten, and the
    session started."""
    account = confirm_login(session, checked, new_hash)
    if account is None:
        return None
    forget(session, forgotten)
    return _start_session(session, shopper, account, now)


def _register_and_log_in(
    session: Session, token: str, hashed: str, shopper: ShopperSession, now: datetime
) -> tuple[Finished | None, _Started | None]:
    """A unit: the link used to create the account, and its first session."""
    done = finish_registration(session, token, hashed, now)
    if done is None or done.account is None:
        return done, None
    return done, _start_session(session, shopper, done.account, now)


def _landing(visit: ShopperVisit) -> str:
    """Where a shopper goes once logged in, unless asked for a page: the cart when it just
    took things (`_start_session` said so after its first notice), else their orders."""
    return "/cart" if visit.flash[1:] else "/orders"


@unit_page
async def register_form(visit: ShopperVisit) -> Page:
    return _register_page()


async def _with_form(request: Request, then: Callable[[FormData], Awaitable[Response]]) -> Response:
    form = await read_form(request)
    try:
        return await then(form)
    finally:
        await form.close()


def _ask_to_register(
    session: Session, email: str, token: str, words: Rendered, checks: list[Check], now: datetime
) -> Throttled | None:
    """A unit: count the attempt (or refuse it, changing nothing); then a pending
    registration and its mail for a new address, or the "someone tried" mail to the owner
    of a known one."""
    over = take(session, checks, now)
    if over is not None:
        return over
    found = find_credentials(session, email)
    if found is None:
        start_registration(session, email, token, now)
        row = mail_row(kind="account.register", to=email, now=now)
        if row is not None:  # written now: the token is kept nowhere else
            row.update(subject=words.subject, text_body=words.text, html_body=words.html)
        insert_mail(session, row)
    else:  # to the address as the account has it, whatever case was typed
        owner = session.get(Account, found.account_id)
        if owner is not None:
            row = mail_row(
                kind="account.register_attempt", to=owner.email, account_id=owner.id, now=now
            )
            insert_mail(session, row)
    return None


@unit_form
async def register_submit(visit: ShopperVisit, form: FormData) -> Response | Page:
    typed = _text(form, "email", 400)
    try:
        email = check_email(typed)
    except InvalidRegistration as exc:
        return _register_page(typed, exc.message, 400)
    if not is_address(email):  # what the mailer would refuse to write to
        return _register_page(typed, INVALID_EMAIL, 400)
    token = new_token()
    link = f"{visit.config.base_url.rstrip('/')}{FINISH_PATH}/{token}"
    words = registration_mail(link, LINK_HOURS)
    checks = register_checks(mailbox_key(email), client_address(visit.request))
    over = await visit.write(_ask_to_register, email, token, words, checks, visit.now)
    if over is not None:
        raise too_many(over)
    return redirect(visit, "/register/sent")


@unit_page
async def register_sent(visit: ShopperVisit) -> Page:
    """The one answer to every registration, known address or not."""
    context = {"kept_mail": visit.config.kept_mail, "hours": LINK_HOURS}
    return Page("register_sent.html", context, title="Check your mail")


def _finish_page(
    email: str | None, error: str | None = None, status: int = 200, taken: bool = False
) -> Page:
    context = {"email": email, "error": error, "minimum": MIN_PASSWORD_LENGTH, "taken": taken}
    title = (
        "Finish creating your account"
        if email
        else "This address already has an account"
        if taken
        else "This link does not work"
    )
    return Page("register_finish.html", context, title=title, status=status)


@unit_page
async def finish_form(visit: ShopperVisit) -> Page:
    token = visit.request.path_params["token"]
    email = await visit.read(pending_email, token, visit.now)
    return _finish_page(email, status=200 if email else 400)


async def finish_submit(request: Request) -> Response:
    """Cheap checks first (the password's length, the CSRF token, the quotas, the link
    unused and young); only then one argon2 hash, with no unit open; the write uses the
    link, so of two requests racing with it only one creates the account."""
    token = request.path_params["token"]

    async def attempt(form: FormData) -> Response:
        password = _text(form, "password")
        try:
            check_password(password)
        except InvalidRegistration as exc:
            problem: str | None = exc.message
        else:
            problem = None
        digest, email, hashed = token_hash(token), None, None
        if digest is not None and problem is None:
            checks = [
                (RESET_ACCOUNT, f"register:{digest}"),
                (LOGIN_ADDRESS, client_address(request)),
            ]
            now = web_config(request).clock()
            admitted, email = await admit(
                request, form, checks, lambda session: pending_email(session, token, now)
            )
            if admitted and email is not None:
                hashed = await argon2(request, web_config(request).passwords.hash, password)

        async def finish(visit: ShopperVisit, form: FormData) -> Response | Page:
            if hashed is None:  # a refused password shows the form again, link kept
                still = await visit.read(pending_email, token, visit.now)
                return _finish_page(still, problem, 400)
            done, started = await visit.write(
                _register_and_log_in, token, hashed, visit.shopper, visit.now
            )
            if started is None:
                return _finish_page(None, status=409 if done else 400, taken=done is not None)
            _welcome(visit, started)
            landing = _landing(visit)
            visit.flash.insert(0, "Welcome! Your account is created.")
            response = redirect(visit, landing)
            web_config(request).devices.attach(response, email_key(started.account.email))
            return response

        return await unit_form(finish)(request)

    return await _with_form(request, attempt)


@unit_page
async def login_form(visit: ShopperVisit) -> Page:
    return _login_page()


async def login_submit(request: Request) -> Response:
    async def attempt(form: FormData) -> Response:
        email = _text(form, "email", 400)
        password = _text(form, "password")[:MAX_PASSWORD_LENGTH]
        config, key = web_config(request), email_key(email)
        device = config.devices.of(request, key)
        checks = login_checks(key, client_address(request), device)
        admitted, stored = await admit(
            request, form, checks, lambda session: find_credentials(session, email)
        )
        checked: Credentials | None = None
        new_hash: str | None = None
        if admitted:  # argon2, with no database session open
            stored_hash = stored.password_hash if stored else None
            if await argon2(request, config.passwords.verify, stored_hash, password) and stored:
                checked = stored
                if config.passwords.needs_rehash(stored.password_hash):
                    new_hash = await argon2(request, config.passwords.hash, password)

        async def finish(visit: ShopperVisit, form: FormData) -> Response | Page:
            # The device's own failures are forgotten on success; strangers' stay counted.
            forgotten = checks[:1] if device else []
            started = (
                await visit.write(_log_in, checked, new_hash, forgotten, visit.shopper, visit.now)
                if checked
                else None
            )
            if started is None:
                return _login_page(email, InvalidCredentials.message, 400)
            _welcome(visit, started)
            response = redirect(visit, safe_next(form.get("next"), _landing(visit)))
            config.devices.attach(response, key)
            return response

        return await unit_form(finish)(request)

    return await _with_form(request, attempt)


@unit_form
async def logout_submit(visit: ShopperVisit, form: FormData) -> Response:
    if visit.shopper.logged_in:
        visit.rotate(await visit.write(log_out_sync, visit.shopper), None)
        visit.flash.append("You have logged out. See you soon!")
    return redirect(visit, "/")


def account_routes() -> list[Route]:
    return [
        Route("/register", register_form, methods=["GET"]),
        Route("/register", register_submit, methods=["POST"]),
        Route("/register/sent", register_sent, methods=["GET"]),
        Route(FINISH_PATH + "/{token}", finish_form, methods=["GET"]),
        Route(FINISH_PATH + "/{token}", finish_submit, methods=["POST"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout_submit, methods=["POST"]),
    ]
