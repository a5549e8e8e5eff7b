"""One request of a shopper, from cookie to response, in one place.

`page` and `form_action` wrap the route handlers: they read the app's clock once as the
visit's `now` (what every function of the handler is given), resolve the session (a fresh
anonymous one when the cookie is missing or bad), open one unit of work for the
handler, check the CSRF token of every POST before the handler runs, render the
template a handler asks for after the transaction has committed, and send the session
cookie when it changed. Handlers return either a Response or a `Page` to render.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cart.exceptions import CartError, NotFound
from cart.identity.accounts import AccountView, get_account
from cart.identity.sessions import COOKIE_NAME, ShopperSession, new_anonymous_session, resolve
from cart.web.config import NOTICE_COOKIE, WebConfig, web_config
from cart.web.csrf import FIELD_NAME
from cart.web.shop import item_count

MAX_FORM_FIELDS = 50


@dataclass
class Visit:
    request: Request
    config: WebConfig
    session: AsyncSession
    shopper: ShopperSession
    account: AccountView | None
    csrf_token: str
    now: datetime  # the app's clock, read once per request
    notices: list[str] = field(default_factory=list)  # shown on this page
    flash: list[str] = field(default_factory=list)  # shown on the next page
    item_count: int = 0

    def rotate(self, shopper: ShopperSession, account: AccountView | None) -> None:
        """A new session (login/logout): new id, new CSRF token, cookie re-sent."""
        self.shopper = shopper
        self.account = account
        self.csrf_token = self.config.csrf.token_for(shopper.sid)


@dataclass
class Page:
    template: str
    context: dict[str, Any]
    title: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    item_count: int | None = None  # the badge, when the handler already knows it


Handler = Callable[[Visit], Awaitable[Response | Page]]
FormHandler = Callable[[Visit, FormData], Awaitable[Response | Page]]
Endpoint = Callable[[Request], Awaitable[Response]]


def safe_next(value: object, default: str = "/cart") -> str:
    """A local path to go back to; anything else (other sites, odd schemes) is ignored."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 0x20 for c in value) or len(value) > 512:
        return default
    return value


def redirect(visit: Visit, location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def error_page(title: str, message: str, status: int, **context: Any) -> Page:
    return Page("error.html", {"message": message, **context}, title=title, status=status)


def render(visit: Visit, page: Page) -> Response:
    template = visit.config.templates.get_template(page.template)
    body = template.render(visit=visit, title=page.title, **page.context)
    headers = {"Cache-Control": "no-store", **page.headers}
    return HTMLResponse(body, status_code=page.status, headers=headers)


async def _begin(request: Request, session: AsyncSession) -> Visit:
    config = web_config(request)
    now = config.clock()
    shopper = await resolve(session, config.cookies, request.cookies.get(COOKIE_NAME), now)
    account = (
        await session.run_sync(get_account, shopper.account_id) if shopper.account_id else None
    )
    if shopper.account_id is not None and account is None:  # account deleted under us
        shopper = new_anonymous_session()
    return Visit(
        request=request,
        config=config,
        session=session,
        shopper=shopper,
        account=account,
        csrf_token=config.csrf.token_for(shopper.sid),
        now=now,
        notices=config.decode_notices(request.cookies.get(NOTICE_COOKIE)),
    )


def _finish(visit: Visit, result: Response | Page) -> Response:
    response = render(visit, result) if isinstance(result, Page) else result
    config = visit.config
    if visit.shopper.changed:
        config.cookies.attach(response, visit.shopper)
    if visit.flash:
        response.set_cookie(
            NOTICE_COOKIE,
            config.encode_notices(visit.flash),
            max_age=300,
            path="/",
            httponly=True,
            secure=config.secure,
            samesite="lax",
        )
    elif visit.notices and isinstance(result, Page):
        # Shown once: the page that displayed them clears them.
        response.delete_cookie(
            NOTICE_COOKIE, path="/", httponly=True, secure=config.secure, samesite="lax"
        )
    return response


async def _run(
    request: Request, call: Callable[[Visit], Awaitable[Response | Page]], back: str | None = None
) -> Response:
    """Run a handler in one unit of work; a domain error rolls all of it back.

    NotFound (including another shopper's line id) answers 404; any other CartError
    of a form goes back to the form's page (`back`) with the message as a notice.
    """
    db = request.app.state.db
    visit: Visit | None = None
    try:
        async with db.transaction() as session:
            visit = await _begin(request, session)
            result = await call(visit)
            if isinstance(result, Page):
                known = result.item_count
                visit.item_count = (
                    known if known is not None else await item_count(session, visit.shopper)
                )
    except CartError as exc:
        if visit is None:
            raise
        if isinstance(exc, NotFound) or back is None:
            status = 404 if isinstance(exc, NotFound) else 409
            result = error_page(
                "Not found" if status == 404 else "That did not work", exc.message, status
            )
        else:
            visit.flash.append(exc.message)
            result = redirect(visit, back)
        async with db.transaction() as session:
            visit.item_count = await item_count(session, visit.shopper)
    return _finish(visit, result)


def page(handler: Handler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await _run(request, handler)

    endpoint.__name__ = handler.__name__
    return endpoint


CSRF_MESSAGE = (
    "For your safety we only accept forms sent from this site's own, current pages, and "
    "this one did not carry the right token. Nothing was changed. This happens when a "
    "page was open from before you logged in or out, or when cookies are blocked. Go "
    "back, reload the page and try again."
)


def form_action(handler: FormHandler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)

        async def call(visit: Visit) -> Response | Page:
            if not visit.config.csrf.is_valid(visit.shopper.sid, form.get(FIELD_NAME)):
                return error_page("This form could not be accepted", CSRF_MESSAGE, 403)
            return await handler(visit, form)

        try:
            return await _run(request, call, back=safe_next(form.get("next"), "/cart"))
        finally:
            await form.close()

    endpoint.__name__ = handler.__name__
    return endpoint
