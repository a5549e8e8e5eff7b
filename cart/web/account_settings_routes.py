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
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cart.identity.account_changes import account_status, mark_verified, replace_password
from cart.identity.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    InvalidRegistration,
    check_registration,
    credentials_of,
)
from cart.identity.sessions import COOKIE_NAME, log_in
from cart.web.config import web_config
from cart.web.quotas import admit, argon2, client_address, login_checks
from cart.web.visit import MAX_FORM_FIELDS, Page, Visit, form_action, page, redirect
from mail.queue import queue_mail
from store.throttle import Quota, forget, take

VERIFY_MAILS = Quota("verify-mail", 3, timedelta(hours=1))
WRONG_PASSWORD = "Your current password is not right, so your password was not changed."  # noqa: S105 - words, not a password


async def account_context(visit: Visit, **extra: Any) -> dict[str, Any]:
    """What the account page shows: the address, whether it is verified, any form error."""
    assert visit.account is not None  # noqa: S101 - callers send strangers to log in
    status = await visit.session.run_sync(account_status, visit.account.id)
    return {
        "status": status,
        "password_error": None,
        "min_password": MIN_PASSWORD_LENGTH,
        **extra,
    }


def queue_verification(visit: Visit, account_id: int, email: str) -> None:
    """One verification mail, in the request's unit of work."""
    queue_mail(
        visit.session,
        kind="account.verify_email",
        to=email,
        account_id=account_id,
        now=visit.now,
    )


@page
async def verify_link(visit: Visit) -> Page:
    claimed = visit.config.verifications.account_id_from(visit.request.path_params["token"])
    status = None
    if claimed is not None:
        status = await visit.session.run_sync(mark_verified, claimed[0], claimed[1], visit.now)
    if status is None:
        return Page(
            "email_verified.html",
            {"status": None},
            title="This link does not work",
            status=400,
        )
    return Page("email_verified.html", {"status": status}, title="E-mail address confirmed")


@form_action
async def send_verification(visit: Visit, form: FormData) -> Response:
    if visit.account is None:
        return redirect(visit, "/login?next=/account")
    status = await visit.session.run_sync(account_status, visit.account.id)
    if status is None or status.verified_at is not None:
        return redirect(visit, "/account")
    over = await visit.session.run_sync(take, [(VERIFY_MAILS, f"#{status.id}")], visit.now)
    if over is not None:
        visit.flash.append(
            "We have sent you several links in the last hour: please look for them "
            "(and in your spam folder) before asking for another."
        )
        return redirect(visit, "/account")
    queue_verification(visit, status.id, status.email)
    visit.flash.append(f"We have sent a link to {status.email}. It works for three days.")
    return redirect(visit, "/account")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_PASSWORD_LENGTH] if isinstance(value, str) else ""


async def change_password(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    try:
        return await _change_password(request, form)
    finally:
        await form.close()


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
    if admitted and stored is not None:  # argon2, with no database session open
        if await argon2(request, config.passwords.verify, stored.password_hash, current):
            try:
                check_registration("someone@example.org", new)
            except InvalidRegistration as refused:
                problem = f"The new password was not taken: {refused.message}"
            else:
                problem = None
                new_hash = await argon2(request, config.passwords.hash, new)

    async def finish(visit: Visit, form: FormData) -> Response | Page:
        if visit.account is None or visit.account.id != account_id or stored is None:
            return redirect(visit, "/login?next=/account")
        failed = problem
        if new_hash is not None and not await visit.session.run_sync(
            replace_password, account_id, stored.password_hash, new_hash
        ):
            failed = "Your password was changed somewhere else meanwhile: please try again."
        if failed is not None:
            context = await account_context(visit, password_error=failed)
            return Page("account.html", context, title="Your account", status=400)
        # replace_password ended every session of the account: this one goes on under a
        # new id, as at login.
        visit.rotate(await log_in(visit.session, account_id, visit.now), visit.account)
        await visit.session.run_sync(forget, checks[:2])
        queue_mail(
            visit.session,
            kind="account.password_changed",
            to=visit.account.email,
            account_id=account_id,
            now=visit.now,
        )
        visit.flash.append("Your password is changed. You are logged out on other devices.")
        return redirect(visit, "/account")

    return await form_action(finish)(request)


def account_settings_routes() -> list[Route]:
    return [
        Route("/account/verify/{token}", verify_link, methods=["GET"]),
        Route("/account/verify", send_verification, methods=["POST"]),
        Route("/account/password", change_password, methods=["POST"]),
    ]
