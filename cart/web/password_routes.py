"""Forgotten passwords: a mail with a signed link, valid an hour and for one use.

`/password/forgot` answers the same whether or not the address has an account (no
enumeration); when it has, one "account.password_reset" mail is queued in the request's
unit of work. The attempt counts against the login quotas, and at most 3 reset mails an
hour go to one recipient (RESET_MAIL; beyond it the same page, no mail), so the form
cannot be used to flood a mailbox. The link signs the account id and a digest of the
current password hash: it stops working after an hour (itsdangerous) or as soon as the
password changes, so it opens once. The new password is hashed off the event loop, as at
registration, and only once the link, the form and the quotas have passed: a stranger
posting passwords to made-up links spends no argon2. The unit that writes the new hash
ends every session of the account, so whoever knew the old password is logged out
everywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cart.identity.account_changes import replace_password
from cart.identity.accounts import (
    MIN_PASSWORD_LENGTH,
    Account,
    Credentials,
    InvalidRegistration,
    check_password,
    credentials_of,
    email_key,
    find_credentials,
    mailbox_key,
)
from cart.identity.sessions import new_anonymous_session
from cart.web.config import web_config
from cart.web.password_links import tag_of
from cart.web.quotas import (
    LOGIN_ACCOUNT,
    LOGIN_ADDRESS,
    RESET_ACCOUNT,
    RESET_MAIL,
    admit,
    argon2,
    client_address,
)
from cart.web.visit import Page, ShopperVisit, read_form, redirect, unit_form, unit_page
from mail.queue import queue_mail
from store.throttle import take

SENT = (
    "If an account has that address, we have sent it a link to choose a new password. "
    "The link works for an hour."
)


@unit_page
async def forgot_form(visit: ShopperVisit) -> Page:
    return Page("password_forgot.html", {"email": ""}, title="Forgotten password")


def _queue_reset(session: Session, account_id: int, now: datetime) -> None:
    """A unit: one reset mail to the account's address, if it still has one."""
    account = session.get(Account, account_id)
    if account is not None:
        queue_mail(
            session, kind="account.password_reset", to=account.email, account_id=account.id, now=now
        )


async def forgot_submit(request: Request) -> Response:
    form = await read_form(request)
    try:
        raw = form.get("email")
        email = raw.strip()[:400] if isinstance(raw, str) else ""
        checks = [(LOGIN_ACCOUNT, email_key(email)), (LOGIN_ADDRESS, client_address(request))]
        now = web_config(request).clock()

        def read(session: Session) -> Credentials | None:
            # Counted whether or not the address has an account: the page is the same.
            if take(session, [(RESET_MAIL, mailbox_key(email))], now) is not None:
                return None
            return find_credentials(session, email)

        admitted, found = await admit(request, form, checks, read)

        async def finish(visit: ShopperVisit, form: FormData) -> Response:
            if admitted and found is not None:
                await visit.write(_queue_reset, found.account_id, visit.now)
            visit.flash.append(SENT)
            return redirect(visit, "/login")

        return await unit_form(finish)(request)
    finally:
        await form.close()


def _link_account(session: Session, claimed: tuple[int, str] | None) -> Credentials | None:
    """A unit: the account a reset link names, while it still has the password the link
    was made for (a used link, or an account gone, names none)."""
    if claimed is None:
        return None
    found = credentials_of(session, claimed[0])
    if found is None or tag_of(found.password_hash) != claimed[1]:
        return None
    return found


def _use_link(session: Session, claimed: tuple[int, str], new_hash: str) -> bool:
    """A unit: the new password, if the link is still unused; every session of the
    account ends with it. False when nothing was written."""
    found = _link_account(session, claimed)
    return found is not None and replace_password(
        session, found.account_id, found.password_hash, new_hash
    )


@unit_page
async def reset_form(visit: ShopperVisit) -> Page:
    claimed = web_config(visit.request).resets.account_id_from(visit.request.path_params["token"])
    valid = await visit.read(_link_account, claimed) is not None
    return Page(
        "password_reset.html",
        {"valid": valid, "error": None, "minimum": MIN_PASSWORD_LENGTH},
        title="Choose a new password",
        status=200 if valid else 400,
    )


async def reset_submit(request: Request) -> Response:
    """Cheap checks first (the link's signature and age, the password's length, the CSRF
    token, the quotas, the link not used yet); only then one argon2 hash, with no unit
    open; the write checks again that the password did not change meanwhile."""
    token = request.path_params["token"]
    form = await read_form(request)
    try:
        raw = form.get("password")
        password = raw if isinstance(raw, str) else ""
        claimed = web_config(request).resets.account_id_from(token)
        hashed = None
        try:
            check_password(password)
        except InvalidRegistration as exc:
            problem: str | None = exc.message
        else:
            problem = None
        if claimed is not None and problem is None:
            checks = [(RESET_ACCOUNT, str(claimed[0])), (LOGIN_ADDRESS, client_address(request))]
            admitted, valid = await admit(
                request, form, checks, lambda session: _link_account(session, claimed)
            )
            if admitted and valid is not None:
                hashed = await argon2(request, web_config(request).passwords.hash, password)

        def refused(valid: bool) -> Page:
            context = {"valid": valid, "error": problem, "minimum": MIN_PASSWORD_LENGTH}
            return Page("password_reset.html", context, title="Choose a new password", status=400)

        async def finish(visit: ShopperVisit, form: FormData) -> Response | Page:
            if claimed is None or hashed is None:
                return refused(await visit.read(_link_account, claimed) is not None)
            # False if the link was used, or the password changed, before this write (a
            # read above, another transaction on PostgreSQL): then nothing was written
            # and no session ended, and the link is used up, so the page must not say
            # otherwise.
            if not await visit.write(_use_link, claimed, hashed):
                return refused(False)
            if visit.shopper.account_id == claimed[0]:  # its session has just ended
                visit.rotate(new_anonymous_session(), None)
            visit.flash.append(
                "Your password is changed and you are logged out everywhere. "
                "Log in with the new one."
            )
            return redirect(visit, "/login")

        return await unit_form(finish)(request)
    finally:
        await form.close()


def password_routes() -> list[Route]:
    return [
        Route("/password/forgot", forgot_form, methods=["GET"]),
        Route("/password/forgot", forgot_submit, methods=["POST"]),
        Route("/password/reset/{token}", reset_form, methods=["GET"]),
        Route("/password/reset/{token}", reset_submit, methods=["POST"]),
    ]
