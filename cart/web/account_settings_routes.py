"""The account holder's own settings: confirming the e-mail address, changing the password.

- An account registered through the web is verified already (its password was chosen
  from a link mailed to it, cart.web.account_routes). Any other (made by `rose-cart
  operators add`, or before registration went e-mail first) can ask for an
  "account.verify_email" mail from the account page (at most VERIFY_MAILS an hour); its
  link (`/account/verify/{token}`, cart.web.password_links) is signed, lasts three days
  and names the address, so it stops working if the address changes. Opening it marks
  the address verified.
- `POST /account/password` asks the current password and a new one. It runs as login
  does: the CSRF token and the login quotas are checked and the stored hash read in one
  short unit (`admit`), argon2 verifies and hashes in a thread with no database session
  open, and the new hash is written only if the old one is still there. A wrong current
  password answers the account page again with the reason (nothing changed); a change
  ends every other session of the account in the unit that writes the hash (this one
  goes on under a new id) and mails the address ("account.password_changed"), so its
  owner hears of it.

No page here holds a database session: each reads or writes in units of work
(`visit.read`/`visit.write`, store/units.py), and argon2 runs between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cart.identity.account_changes import (
    AccountStatus,
    account_status,
    mark_verified,
    replace_password,
)
from cart.identity.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    InvalidRegistration,
    check_registration,
    credentials_of,
)
from cart.identity.sessions import COOKIE_NAME, ShopperSession, log_in_sync
from cart.web.config import web_config
from cart.web.quotas import admit, argon2, client_address, login_checks
from cart.web.visit import (
    Page,
    ShopperVisit,
    read_form,
    redirect,
    unit_form,
    unit_page,
)
from mail.queue import queue_mail
from store.throttle import Check, Quota, forget, take

VERIFY_MAILS = Quota("verify-mail", 3, timedelta(hours=1))
WRONG_PASSWORD = "Your current password is not right, so your password was not changed."  # noqa: S105 - words, not a password


async def account_context(visit: ShopperVisit, **extra: Any) -> dict[str, Any]:
    """What the account page shows: the address, whether it is verified, any form error."""
    assert visit.account is not None  # noqa: S101 - callers send strangers to log in
    status = await visit.read(account_status, visit.account.id)
    return {
        "status": status,
        "password_error": None,
        "min_password": MIN_PASSWORD_LENGTH,
        **extra,
    }


@unit_page
async def verify_link(visit: ShopperVisit) -> Page:
    claimed = visit.config.verifications.account_id_from(visit.request.path_params["token"])
    status = None
    if claimed is not None:
        status = await visit.write(mark_verified, claimed[0], claimed[1], visit.now)
    if status is None:
        return Page(
            "email_verified.html",
            {"status": None},
            title="This link does not work",
            status=400,
        )
    return Page("email_verified.html", {"status": status}, title="E-mail address confirmed")


@dataclass(frozen=True)
class _Asked:
    status: AccountStatus | None
    sent: bool  # False: verified already, no account, or over VERIFY_MAILS


def _ask_for_verification(session: Session, account_id: int, now: datetime) -> _Asked:
    """A unit: one verification mail, unless the address is verified or the hour's
    mails are spent."""
    status = account_status(session, account_id)
    if status is None or status.verified_at is not None:
        return _Asked(status, False)
    if take(session, [(VERIFY_MAILS, f"#{status.id}")], now) is not None:
        return _Asked(status, False)
    queue_mail(session, kind="account.verify_email", to=status.email, account_id=status.id, now=now)
    return _Asked(status, True)


@unit_form
async def send_verification(visit: ShopperVisit, form: FormData) -> Response:
    if visit.account is None:
        return redirect(visit, "/login?next=/account")
    asked = await visit.write(_ask_for_verification, visit.account.id, visit.now)
    if asked.sent and asked.status is not None:
        email = asked.status.email
        visit.flash.append(f"We have sent a link to {email}. It works for three days.")
    elif asked.status is not None and asked.status.verified_at is None:
        visit.flash.append(
            "We have sent you several links in the last hour: please look for them "
            "(and in your spam folder) before asking for another."
        )
    return redirect(visit, "/account")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_PASSWORD_LENGTH] if isinstance(value, str) else ""


async def change_password(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _change_password(request, form)
    finally:
        await form.close()


def _password_changed(
    session: Session,
    account_id: int,
    checked_hash: str,
    new_hash: str,
    guesses: list[Check],
    email: str,
    now: datetime,
) -> ShopperSession | None:
    """A unit: the new hash if the old one is still there, every session of the account
    ended and a new one for this browser, the guesses forgotten, the owner mailed. None
    (nothing written) when the password changed meanwhile."""
    if not replace_password(session, account_id, checked_hash, new_hash):
        return None
    shopper = log_in_sync(session, account_id, now)
    forget(session, guesses)
    queue_mail(session, kind="account.password_changed", to=email, account_id=account_id, now=now)
    return shopper


async def _change_password(request: Request, form: FormData) -> Response:
    config = web_config(request)
    cookie = config.cookies.decode(request.cookies.get(COOKIE_NAME))
    account_id = cookie.account_id if cookie is not None else None
    if account_id is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    current, new = _text(form, "current_password"), _text(form, "new_password")
    # Each try at the current password counts as a login guess: this form must not be a
    # way around the login's quotas.
    checks = login_checks(f"#{account_id}", client_address(request))
    admitted, stored = await admit(
        request, form, checks, lambda session: credentials_of(session, account_id)
    )
    problem: str | None = WRONG_PASSWORD
    new_hash: str | None = None
    if admitted and stored is not None:  # argon2, with no unit of work open
        if await argon2(request, config.passwords.verify, stored.password_hash, current):
            try:
                check_registration("someone@example.org", new)
            except InvalidRegistration as refused:
                problem = f"The new password was not taken: {refused.message}"
            else:
                problem = None
                new_hash = await argon2(request, config.passwords.hash, new)

    async def finish(visit: ShopperVisit, form: FormData) -> Response | Page:
        if visit.account is None or visit.account.id != account_id or stored is None:
            return redirect(visit, "/login?next=/account")
        failed = problem
        if new_hash is not None:
            # replace_password ends every session of the account: this one goes on under
            # a new id, as at login.
            shopper = await visit.write(
                _password_changed,
                account_id,
                stored.password_hash,
                new_hash,
                checks[:1],
                visit.account.email,
                visit.now,
            )
            if shopper is None:
                failed = "Your password was changed somewhere else meanwhile: please try again."
            else:
                visit.rotate(shopper, visit.account)
        if failed is not None:
            context = await account_context(visit, password_error=failed)
            return Page("account.html", context, title="Your account", status=400)
        visit.flash.append("Your password is changed. You are logged out on other devices.")
        return redirect(visit, "/account")

    return await unit_form(finish)(request)


def account_settings_routes() -> list[Route]:
    return [
        Route("/account/verify/{token}", verify_link, methods=["GET"]),
        Route("/account/verify", send_verification, methods=["POST"]),
        Route("/account/password", change_password, methods=["POST"]),
    ]
