"""Forgotten passwords: a mail with a signed link, valid an hour and for one use.

`/password/forgot` answers the same whether or not the address has an account (no
enumeration); when it has, one "account.password_reset" mail is queued in the request's
unit of work. The attempt counts against the login quotas, so the form cannot be used to
flood a mailbox. The link signs the account id and a digest of the current password
hash: it stops working after an hour (itsdangerous) or as soon as the password changes,
so it opens once. The new password is hashed off the event loop, as at registration, and
only once the link, the form and the quotas have passed: a stranger posting passwords
to made-up links spends no argon2. The unit that writes the new hash ends every session
of the account, so whoever knew the old password is logged out everywhere.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cart.identity.account_changes import replace_password
from cart.identity.accounts import (
    MIN_PASSWORD_LENGTH,
    Account,
    InvalidRegistration,
    check_registration,
    credentials_of,
    email_key,
    find_credentials,
)
from cart.identity.sessions import new_anonymous_session
from cart.web.config import web_config
from cart.web.password_links import tag_of
from cart.web.quotas import (
    LOGIN_ACCOUNT,
    LOGIN_ADDRESS,
    RESET_ACCOUNT,
    admit,
    argon2,
    client_address,
)
from cart.web.visit import MAX_FORM_FIELDS, Page, Visit, form_action, page, redirect
from mail.queue import queue_mail

SENT = (
    "If an account has that address, we have sent it a link to choose a new password. "
    "The link works for an hour."
)


@page
async def forgot_form(visit: Visit) -> Page:
    return Page("password_forgot.html", {"email": ""}, title="Forgotten password")


async def forgot_submit(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    try:
        raw = form.get("email")
        email = raw.strip()[:400] if isinstance(raw, str) else ""
        checks = [(LOGIN_ACCOUNT, email_key(email)), (LOGIN_ADDRESS, client_address(request))]
        admitted, found = await admit(
            request, form, checks, lambda session: find_credentials(session, email)
        )

        async def finish(visit: Visit, form: FormData) -> Response:
            if admitted and found is not None:
                account = await visit.session.get(Account, found.account_id)
                if account is not None:
                    queue_mail(
                        visit.session,
                        kind="account.password_reset",
                        to=account.email,
                        account_id=account.id,
                        now=visit.now,
                    )
            visit.flash.append(SENT)
            return redirect(visit, "/login")

        return await form_action(finish)(request)
    finally:
        await form.close()


async def _account_for(visit: Visit, token: str) -> Account | None:
    claimed = web_config(visit.request).resets.account_id_from(token)
    if claimed is None:
        return None
    account = await visit.session.get(Account, claimed[0])
    if account is None or tag_of(account.password_hash) != claimed[1]:
        return None  # used already (the password changed) or the account is gone
    return account


@page
async def reset_form(visit: Visit) -> Page:
    token = visit.request.path_params["token"]
    account = await _account_for(visit, token)
    return Page(
        "password_reset.html",
        {"valid": account is not None, "error": None, "minimum": MIN_PASSWORD_LENGTH},
        title="Choose a new password",
        status=200 if account is not None else 400,
    )


def _still_valid(session: Session, claimed: tuple[int, str]) -> bool:
    """A unit: the account a link names still has the password the link was made for."""
    found = credentials_of(session, claimed[0])
    return found is not None and tag_of(found.password_hash) == claimed[1]


async def reset_submit(request: Request) -> Response:
    """Cheap checks first (the link's signature and age, the password's length, the CSRF
    token, the quotas, the link not used yet); only then one argon2 hash, with no unit
    open; the write checks again that the password did not change meanwhile."""
    token = request.path_params["token"]
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    try:
        raw = form.get("password")
        password = raw if isinstance(raw, str) else ""
        claimed = web_config(request).resets.account_id_from(token)
        hashed = None
        try:
            check_registration("someone@example.org", password)
        except InvalidRegistration as exc:
            problem: str | None = exc.message
        else:
            problem = None
        if claimed is not None and problem is None:
            checks = [(RESET_ACCOUNT, str(claimed[0])), (LOGIN_ADDRESS, client_address(request))]
            admitted, valid = await admit(
                request, form, checks, lambda session: _still_valid(session, claimed)
            )
            if admitted and valid:
                hashed = await argon2(request, web_config(request).passwords.hash, password)

        def refused(valid: bool) -> Page:
            context = {"valid": valid, "error": problem, "minimum": MIN_PASSWORD_LENGTH}
            return Page("password_reset.html", context, title="Choose a new password", status=400)

        async def finish(visit: Visit, form: FormData) -> Response | Page:
            account = await _account_for(visit, token)
            if account is None or hashed is None:
                return refused(account is not None)
            # False if the password changed between the read above and this write (another
            # transaction, on PostgreSQL): then nothing was written and no session ended,
            # and the link is used up, so the page must not say otherwise.
            if not await visit.session.run_sync(
                replace_password, account.id, account.password_hash, hashed
            ):
                return refused(False)
            if visit.shopper.account_id == account.id:  # its session has just ended
                visit.rotate(new_anonymous_session(), None)
            visit.flash.append(
                "Your password is changed and you are logged out everywhere. "
                "Log in with the new one."
            )
            return redirect(visit, "/login")

        return await form_action(finish)(request)
    finally:
        await form.close()


def password_routes() -> list[Route]:
    return [
        Route("/password/forgot", forgot_form, methods=["GET"]),
        Route("/password/forgot", forgot_submit, methods=["POST"]),
        Route("/password/reset/{token}", reset_form, methods=["GET"]),
        Route("/password/reset/{token}", reset_submit, methods=["POST"]),
    ]
