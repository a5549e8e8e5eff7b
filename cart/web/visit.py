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
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from actor.starlette_adapter import BadContentLength, BodyTooLarge, declared_length, read_within
from cart.exceptions import CartError, NotFound
from cart.identity.accounts import AccountView, get_account
from cart.identity.sessions import (
    COOKIE_NAME,
    ShopperSession,
    new_anonymous_session,
    signed_in_sync,
)
from cart.web.config import NOTICE_COOKIE, WebConfig, web_config
from cart.web.csrf import FIELD_NAME
from cart.web.shop import item_count, item_count_sync
from store import Database
from store.units import Unit

MAX_FORM_FIELDS = 50
MAX_FORM_BYTES = 64 * 1024  # the largest form of ours, every field full, is under 8 KiB
URLENCODED = "application/x-www-form-urlencoded"
FORM_TOO_LARGE = "The form is larger than any of this shop's forms; nothing was changed."
P = ParamSpec("P")
T = TypeVar("T")
V = TypeVar("V", bound="ShopperVisit")


@dataclass
class ShopperVisit:
    """A request with no session: its database work goes through `read`/`write` units."""

    request: Request
    config: WebConfig
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

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        db: Database = self.request.app.state.db
        return await db.read(fn, *args, **kwargs)

    async def write(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        db: Database = self.request.app.state.db
        return await db.write(fn, *args, **kwargs)


@dataclass
class Visit(ShopperVisit):
    """A request run inside one async session (handlers not converted to units yet)."""

    session: AsyncSession = field(kw_only=True)


@dataclass
class Page:
    template: str
    context: dict[str, Any]
    title: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    item_count: int | None = None  # the badge, when the handler already knows it


Handler = Callable[[Visit], Awaitable[Response | Page]]
UnitHandler = Callable[[ShopperVisit], Awaitable[Response | Page]]
UnitFormHandler = Callable[[ShopperVisit, FormData], Awaitable[Response | Page]]
FormHandler = Callable[[Visit, FormData], Awaitable[Response | Page]]
Endpoint = Callable[[Request], Awaitable[Response]]


def safe_next(value: object, default: str = "/cart") -> str:
    """A local path to go back to; anything else (other sites, odd schemes) is ignored."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 0x20 for c in value) or len(value) > 512:
        return default
    return value


def redirect(visit: ShopperVisit, location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def error_page(title: str, message: str, status: int, **context: Any) -> Page:
    return Page("error.html", {"message": message, **context}, title=title, status=status)


def render(visit: ShopperVisit, page: Page) -> Response:
    template = visit.config.templates.get_template(page.template)
    body = template.render(visit=visit, title=page.title, **page.context)
    headers = {"Cache-Control": "no-store", **page.headers}
    return HTMLResponse(body, status_code=page.status, headers=headers)


async def _begin(request: Request, session: AsyncSession) -> Visit:
    shopper = await _identify(request, session.run_sync)
    return Visit(**vars(shopper), session=session)


def _finish(visit: ShopperVisit, result: Response | Page) -> Response:
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


async def _identify(request: Request, read: Callable[..., Awaitable[Any]]) -> ShopperVisit:
    """The shopper from the cookie: no database for an anonymous one, one `read` of a
    unit for a logged-in one (its server-side row and account)."""
    config = web_config(request)
    now = config.clock()
    shopper = config.cookies.decode(request.cookies.get(COOKIE_NAME))
    account = None
    if shopper is None:
        shopper = new_anonymous_session()
    elif shopper.account_id is not None:
        shopper, account = await read(_signed_in, shopper, now)
    return ShopperVisit(
        request=request,
        config=config,
        shopper=shopper,
        account=account,
        csrf_token=config.csrf.token_for(shopper.sid),
        now=now,
        notices=config.decode_notices(request.cookies.get(NOTICE_COOKIE)),
    )


def _signed_in(
    session: Session, shopper: ShopperSession, now: datetime
) -> tuple[ShopperSession, AccountView | None]:
    checked = signed_in_sync(session, shopper, now)
    account = get_account(session, checked.account_id) if checked.account_id else None
    if checked.account_id is not None and account is None:  # account deleted under us
        return new_anonymous_session(), None
    return checked, account


async def _run_units(request: Request, call: UnitHandler, back: str | None = None) -> Response:
    """Run a handler that holds no session; its units are its transactions.

    As `_run`: NotFound answers 404; any other CartError of a form goes back to `back`
    with the message as a notice (a unit that raised changed nothing). A page's badge
    comes from the handler's own unit when it sets `Page.item_count`, else one read.
    """
    visit = await _identify(request, request.app.state.db.read)
    known: int | None
    try:
        result = await call(visit)
        known = result.item_count if isinstance(result, Page) else 0
    except CartError as exc:
        if back is not None and not isinstance(exc, NotFound):
            visit.flash.append(exc.message)
            result, known = redirect(visit, back), 0
        else:
            status = 404 if isinstance(exc, NotFound) else 409
            title = "Not found" if status == 404 else "That did not work"
            result, known = error_page(title, exc.message, status), None
    visit.item_count = (
        known if known is not None else await visit.read(item_count_sync, visit.shopper)
    )
    return _finish(visit, result)


def unit_page(handler: UnitHandler) -> Endpoint:
    """A page whose handler holds no session: it asks for units (`visit.read`/`write`)."""

    async def endpoint(request: Request) -> Response:
        return await _run_units(request, handler)

    endpoint.__name__ = handler.__name__
    return endpoint


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


async def read_form(request: Request) -> FormData:
    """The submitted form: at most MAX_FORM_BYTES, MAX_FORM_FIELDS fields and no files.

    Over the size, 413 before the body is read (when Content-Length says so) or as soon as
    it passes; over the fields, 400; a multipart body that does not declare its length,
    411. A NUL in any name or value is refused with a 400:
    PostgreSQL's text cannot hold one, so it answered 500 at the first query that carried
    it, and no person types one. Every form of ours is URL-encoded, and that is parsed
    here with the standard library (the names and values decoded as Starlette's parser
    decodes them); anything else goes to Starlette's multipart parser.
    """
    read: FormData | None = getattr(request.state, "form", None)
    if read is not None:  # read once per request (login hands its form on to a unit)
        return read
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if media == URLENCODED:
            form = _urlencoded(await read_within(request, MAX_FORM_BYTES))
        elif declared_length(request, MAX_FORM_BYTES) is None:
            # Starlette's multipart parser bounds each part, not the whole: a body of
            # ours that is not URL-encoded must say its length, bounded here.
            raise HTTPException(411, "A form must say its length; nothing was changed.")
        else:
            form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except BadContentLength:
        raise HTTPException(400, "The form's Content-Length is not a number.") from None
    except BodyTooLarge:
        raise HTTPException(413, FORM_TOO_LARGE) from None
    for name, value in form.multi_items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            await form.close()
            raise HTTPException(400, "A form field holds a NUL character; nothing was changed.")
    request.state.form = form
    return form


def _urlencoded(body: bytes) -> FormData:
    # Bounded by the body's 64 KiB; counted as fields, not as "&" separators.
    fields: list[tuple[str, str | UploadFile]] = list(
        parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    )
    if len(fields) > MAX_FORM_FIELDS:
        raise HTTPException(400, "The form has too many fields.")
    return FormData(fields)


async def _with_form(
    request: Request,
    handler: Callable[[V, FormData], Awaitable[Response | Page]],
    run: Callable[[Request, Callable[[V], Awaitable[Response | Page]], str], Awaitable[Response]],
) -> Response:
    """Read the form, check its CSRF token before the handler (or any unit) runs."""
    form = await read_form(request)

    async def call(visit: V) -> Response | Page:
        if not visit.config.csrf.is_valid(visit.shopper.sid, form.get(FIELD_NAME)):
            return error_page("This form could not be accepted", CSRF_MESSAGE, 403)
        return await handler(visit, form)

    try:
        return await run(request, call, safe_next(form.get("next"), "/cart"))
    finally:
        await form.close()


def form_action(handler: FormHandler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await _with_form(request, handler, _run)

    endpoint.__name__ = handler.__name__
    return endpoint


def unit_form(handler: UnitFormHandler) -> Endpoint:
    """`form_action` for a handler that holds no session: CSRF is checked before any unit."""

    async def endpoint(request: Request) -> Response:
        return await _with_form(request, handler, _run_units)

    endpoint.__name__ = handler.__name__
    return endpoint
