"""Who may use the admin area, and the extra password check of destructive actions.

The admin pages run through the shopper's `page`/`form_action` machinery (one unit of
work, session cookie, CSRF check on every POST before the handler runs) with one more
gate in front: anonymous visitors are sent to log in, and a logged-in account that is
not an operator gets a 403 page. Refunds, rejecting a follow request and retrying every
dead delivery also ask for the operator's password again, so an unattended logged-in
browser cannot do them in one click. argon2 runs before the action's unit of work, and
the handler asks `password_confirmed` (cart/web/reauth.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cart.admin.audit import record_action
from cart.identity.accounts import Role
from cart.web.reauth import reauth_form_action
from cart.web.visit import Endpoint, Page, Visit, error_page, page

AdminHandler = Callable[[Visit], Awaitable[Response | Page]]
AdminFormHandler = Callable[[Visit, FormData], Awaitable[Response | Page]]

FORBIDDEN_MESSAGE = (
    "This part of the site is for the co-op's operators, and your account is not one. "
    "If you run this cart, ask another operator to run `rose-cart operators add` for you."
)
REAUTH_MESSAGE = (
    "That password is not right, so nothing was changed. This action asks for your "
    "password again because it cannot be undone."
)


def _denied(visit: Visit) -> Response | Page | None:
    if visit.account is None:
        url = visit.request.url
        if visit.request.method != "GET":  # an action URL cannot be opened after logging in
            target = "/admin"
        else:
            target = f"{url.path}?{url.query}" if url.query else url.path
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    if visit.account.role != Role.OPERATOR:
        return error_page("Operators only", FORBIDDEN_MESSAGE, 403)
    return None


def admin_page(handler: AdminHandler) -> Endpoint:
    async def guarded(visit: Visit) -> Response | Page:
        return _denied(visit) or await handler(visit)

    guarded.__name__ = handler.__name__
    return page(guarded)


def admin_action(handler: AdminFormHandler) -> Endpoint:
    """A POST of the admin area: CSRF is checked first (form_action), then the role."""

    async def guarded(visit: Visit, form: FormData) -> Response | Page:
        denied = _denied(visit)
        answer = denied or await handler(visit, form)
        if visit.account is not None:
            # In the action's own transaction: logged exactly when it happened.
            refused = denied is not None or (isinstance(answer, Page) and answer.status >= 400)
            await visit.session.run_sync(
                record_action,
                visit.account.email,
                handler.__name__,
                visit.request.url.path,
                "refused" if refused else "done",
                visit.now,
            )
        return answer

    guarded.__name__ = handler.__name__
    return reauth_form_action(guarded, operators_only=True)


def reauth_failed(back: str) -> Page:
    return error_page(
        "Password needed", REAUTH_MESSAGE, 403, back_href=back, back_label="Go back and try again"
    )
