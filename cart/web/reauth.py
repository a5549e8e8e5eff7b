"""Forms that ask for the password again: argon2 runs first, between units of work.

Deleting an account, a refund, rejecting a follow request and retrying every dead
delivery ask for the current password, so an unattended logged-in browser cannot do
them in one click. argon2 costs tens of milliseconds of CPU by design and must not run
while the action's unit of work holds its connection (store/held.py refuses it), so a
submitted password is checked before that unit begins: one read unit (the login session and
its stored hash), then argon2 with no connection held. The handler then asks
`password_confirmed(visit)`. A forged form (bad CSRF token) and an account without the
role needed cost no hash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from cart.identity.accounts import (
    Credentials,
    Role,
    credentials_of,
    get_account,
    verify_password,
)
from cart.identity.sessions import COOKIE_NAME, ShopperSession, signed_in_sync
from cart.web.config import web_config
from cart.web.csrf import FIELD_NAME
from cart.web.visit import (
    Endpoint,
    FormHandler,
    ShopperVisit,
    UnitFormHandler,
    form_action,
    read_form,
    unit_form,
)
from store import Database

CONFIRMED = "password_confirmed_for"  # request.state: the account whose password was right


def _reauth_subject(
    session: Session, shopper: ShopperSession, now: datetime, operators_only: bool
) -> Credentials | None:
    """A read unit: the stored hash of the logged-in account, if it may do this at all."""
    account_id = signed_in_sync(session, shopper, now).account_id
    if account_id is None:  # logged out, expired, or revoked
        return None
    account = get_account(session, account_id)
    if account is None or (operators_only and account.role != Role.OPERATOR):
        return None
    return credentials_of(session, account.id)


async def check_password_first(request: Request, *, operators_only: bool = False) -> None:
    """When the form carries a password, check it against the logged-in account's."""
    form = await read_form(request)
    submitted = form.get("password")
    if not isinstance(submitted, str) or not submitted:
        return
    config = web_config(request)
    shopper = config.cookies.decode(request.cookies.get(COOKIE_NAME))
    if (
        shopper is None
        or shopper.account_id is None
        or not config.csrf.is_valid(shopper.sid, form.get(FIELD_NAME))
    ):
        return
    db: Database = request.app.state.db
    stored = await db.read(_reauth_subject, shopper, config.clock(), operators_only)
    if stored is not None and await verify_password(config.passwords, stored, submitted):
        setattr(request.state, CONFIRMED, stored.account_id)


def password_confirmed(visit: ShopperVisit) -> bool:
    """Whether this request's form carried the logged-in account's current password."""
    confirmed = getattr(visit.request.state, CONFIRMED, None)
    return visit.account is not None and confirmed == visit.account.id


def _reauth(action: Endpoint, name: str, operators_only: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        await check_password_first(request, operators_only=operators_only)
        return await action(request)  # the form is parsed once: Starlette keeps it

    endpoint.__name__ = name
    return endpoint


def reauth_form_action(handler: FormHandler, *, operators_only: bool = False) -> Endpoint:
    """`form_action`, with a submitted password checked first (see the module's doc)."""
    return _reauth(form_action(handler), handler.__name__, operators_only)


def reauth_unit_form(handler: UnitFormHandler, *, operators_only: bool = False) -> Endpoint:
    """`unit_form` (a handler that holds no session), with a submitted password checked
    first."""
    return _reauth(unit_form(handler), handler.__name__, operators_only)
