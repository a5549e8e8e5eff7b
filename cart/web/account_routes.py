"""Register, log in, log out. Logging in rotates the session and adopts the anonymous cart.

Login and registration are what a stranger can drive hardest, so each runs in three steps
(see ``cart.web.quotas``): a short unit of work that checks the CSRF token and the
quotas, counts the attempt and reads the stored hash; argon2 in a thread with no database
session open; then the form action proper, which writes. Over a quota: 429, and argon2 is
never run. Registration answers exactly the same whether or not the address already has
an account (no enumeration): both hash once and send the visitor to log in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cart.basket.carts import adopt_cart
from cart.identity.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountView,
    Credentials,
    InvalidCredentials,
    InvalidRegistration,
    check_registration,
    confirm_login,
    create_account,
    email_key,
    find_credentials,
    get_account,
)
from cart.identity.sessions import log_in, log_out
from cart.orders.orders import adopt_orders
from cart.web.account_settings_routes import queue_verification
from cart.web.config import web_config
from cart.web.quotas import (
    admit,
    argon2,
    client_address,
    login_checks,
    register_checks,
)
from cart.web.shop import item_count
from cart.web.visit import MAX_FORM_FIELDS, Page, Visit, form_action, page, redirect, safe_next
from mail.queue import queue_mail
from store.throttle import forget

REGISTERED = (
    "Thank you. Log in below with that e-mail address and the password you chose. "
    "(If the address already had an account here, nothing about it was changed.)"
)


def _text(form: FormData, name: str, limit: int = 2048) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _register_page(email: str = "", error: str | None = None, status: int = 200) -> Page:
    context = {"email": email, "error": error, "min_password": MIN_PASSWORD_LENGTH}
    return Page("register.html", context, title="Create an account", status=status)


def _login_page(email: str = "", error: str | None = None, status: int = 200) -> Page:
    return Page("login.html", {"email": email, "error": error}, title="Log in", status=status)


async def _start_session(visit: Visit, account: AccountView) -> None:
    """New session id for the account; the anonymous cart's lines join the account's."""
    anonymous_cart = visit.shopper.cart_id
    carried = await item_count(visit.session, visit.shopper) if anonymous_cart else 0
    if visit.shopper.logged_in:
        await log_out(visit.session, visit.shopper)
    changes = (
        await adopt_cart(visit.session, anonymous_cart, account.id, now=visit.now)
        if anonymous_cart
        else []
    )
    if anonymous_cart:  # orders placed before logging in stay the shopper's
        await adopt_orders(visit.session, anonymous_cart, account.id)
    visit.rotate(await log_in(visit.session, account.id, visit.now), account)
    visit.flash.append(f"You are logged in as {account.email}.")
    if carried:
        things = "item" if carried == 1 else "items"
        visit.flash.append(f"The {carried} {things} from your cart are now in your account's cart.")
    visit.flash.extend(changes)


@page
async def register_form(visit: Visit) -> Page:
    return _register_page()


async def _with_form(request: Request, then: Callable[[FormData], Awaitable[Response]]) -> Response:
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    try:
        return await then(form)
    finally:
        await form.close()


async def account_exists(visit: Visit, email: str) -> None:
    """Someone asked to register an address that has an account. The page they see is the
    same as for a new address; the owner hears of it by mail instead (queued in this unit
    of work, so only if the request commits; at most REGISTER_ACCOUNT an hour)."""
    found = await visit.session.run_sync(find_credentials, email)
    if found is not None:
        account = await visit.session.run_sync(get_account, found.account_id)
        if account is not None:
            queue_mail(
                visit.session,
                kind="account.register_attempt",
                to=account.email,
                account_id=account.id,
                now=visit.now,
            )


async def register_submit(request: Request) -> Response:
    async def attempt(form: FormData) -> Response:
        email, password = _text(form, "email", 400), _text(form, "password")
        try:
            email = check_registration(email, password)
        except InvalidRegistration as exc:
            refused = exc.message

            async def show(visit: Visit, form: FormData) -> Page:
                return _register_page(email, refused, 400)

            return await form_action(show)(request)
        checks = register_checks(email_key(email), client_address(request))
        admitted, existing = await admit(
            request, form, checks, lambda session: find_credentials(session, email)
        )
        # Known address or not, one hash: the answer takes as long either way.
        passwords = web_config(request).passwords
        hashed = await argon2(request, passwords.hash, password) if admitted else None

        async def finish(visit: Visit, form: FormData) -> Response:
            created = None
            if existing is None and hashed is not None:
                created = await visit.session.run_sync(create_account, email, hashed)
            if created is not None:  # one mail to confirm the address, with the account
                queue_verification(visit, created.id, created.email)
            if created is None and hashed is not None:
                await account_exists(visit, email)
            visit.flash.append(REGISTERED)
            query = urlencode({"next": safe_next(form.get("next"), "/cart")})
            return redirect(visit, f"/login?{query}")

        return await form_action(finish)(request)

    return await _with_form(request, attempt)


@page
async def login_form(visit: Visit) -> Page:
    return _login_page()


async def login_submit(request: Request) -> Response:
    async def attempt(form: FormData) -> Response:
        email = _text(form, "email", 400)
        password = _text(form, "password")[:MAX_PASSWORD_LENGTH]
        checks = login_checks(email_key(email), client_address(request))
        admitted, stored = await admit(
            request, form, checks, lambda session: find_credentials(session, email)
        )
        checked: Credentials | None = None
        new_hash: str | None = None
        if admitted:  # argon2, with no database session open
            passwords = web_config(request).passwords
            stored_hash = stored.password_hash if stored else None
            if await argon2(request, passwords.verify, stored_hash, password) and stored:
                checked = stored
                if passwords.needs_rehash(stored.password_hash):
                    new_hash = await argon2(request, passwords.hash, password)

        async def finish(visit: Visit, form: FormData) -> Response | Page:
            account = (
                await visit.session.run_sync(confirm_login, checked, new_hash) if checked else None
            )
            if account is None:
                return _login_page(email, InvalidCredentials.message, 400)
            await visit.session.run_sync(
                forget, checks[:2]
            )  # the account's; the address keeps its own
            await _start_session(visit, account)
            # Unless asked for a page: the cart when it just took things, else their orders.
            landing = "/cart" if visit.flash[1:] else "/orders"
            return redirect(visit, safe_next(form.get("next"), landing))

        return await form_action(finish)(request)

    return await _with_form(request, attempt)


@form_action
async def logout_submit(visit: Visit, form: FormData) -> Response:
    if visit.shopper.logged_in:
        visit.rotate(await log_out(visit.session, visit.shopper), None)
        visit.flash.append("You have logged out. See you soon!")
    return redirect(visit, "/")


def account_routes() -> list[Route]:
    return [
        Route("/register", register_form, methods=["GET"]),
        Route("/register", register_submit, methods=["POST"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout_submit, methods=["POST"]),
    ]
