"""Register, log in, log out. Logging in rotates the session and adopts the anonymous cart."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from cart.basket.carts import adopt_cart
from cart.identity.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    AccountView,
    authenticate,
    register,
)
from cart.identity.sessions import log_in, log_out
from cart.orders.orders import adopt_orders
from cart.web.shop import item_count
from cart.web.visit import Page, Visit, form_action, page, redirect, safe_next


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
    changes = await adopt_cart(visit.session, anonymous_cart, account.id) if anonymous_cart else []
    if anonymous_cart:  # orders placed before logging in stay the shopper's
        await adopt_orders(visit.session, anonymous_cart, account.id)
    visit.rotate(await log_in(visit.session, account.id), account)
    visit.flash.append(f"You are logged in as {account.email}.")
    if carried:
        things = "item" if carried == 1 else "items"
        visit.flash.append(f"The {carried} {things} from your cart are now in your account's cart.")
    visit.flash.extend(changes)


@page
async def register_form(visit: Visit) -> Page:
    return _register_page()


@form_action
async def register_submit(visit: Visit, form: FormData) -> Response | Page:
    email = _text(form, "email", 400)
    try:
        account = await register(
            visit.session, visit.config.passwords, email, _text(form, "password")
        )
    except AccountError as exc:
        return _register_page(email, exc.message, 400)
    await _start_session(visit, account)
    return redirect(visit, safe_next(form.get("next"), "/cart" if visit.flash[1:] else "/"))


@page
async def login_form(visit: Visit) -> Page:
    return _login_page()


@form_action
async def login_submit(visit: Visit, form: FormData) -> Response | Page:
    email = _text(form, "email", 400)
    try:
        account = await authenticate(
            visit.session, visit.config.passwords, email, _text(form, "password")
        )
    except AccountError as exc:
        return _login_page(email, exc.message, 400)
    await _start_session(visit, account)
    return redirect(visit, safe_next(form.get("next"), "/cart" if visit.flash[1:] else "/"))


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
