"""The one wrapper at the edge of the app: request id, security headers, access log, pacing.

Every response passes through one `send` wrapper here instead of one per concern (each
wrapper is a closure and a call per ASGI message on every request, issue 18). It is the
outermost layer, so a 500 page from Starlette's error middleware carries the request id
and the security headers too. Per-client pacing (service/pacing.py) is decided here too,
before the rest of the app sees the request, so a paced refusal costs no session, form or
database work and still carries the request id and the headers.
"""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PROBLEM_JSON, exception_handlers, problem_body
from service.logs import enter_request, leave_request, log_request, request_id_of
from service.pacing import Pacer

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool, pacer: Pacer | None = None) -> None:
        self.app = app
        self.pacer = pacer
        self.headers = list(_HEADERS)
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = enter_request(request_id)
        started = time.perf_counter()
        status = 500

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                present = {name for name, _ in headers}
                extra = [h for h in self.headers if h[0] not in present]
                message["headers"] = [*headers, *extra, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
                await _refuse_nul(scope, receive, send_at_edge)
            elif self.pacer is not None and (refusal := self.pacer.check(scope)) is not None:
                await self.pacer.refuse(refusal, scope, receive, send_at_edge)
            else:
                await self.app(scope, receive, send_at_edge)
        finally:
            log_request(scope, status, started)
            leave_request(token)


# A NUL in a URL: PostgreSQL's text cannot hold one, so it answered 500 wherever a path
# or query value reached a query (/products/a%00b, a search), and no link carries one.
NUL_DETAIL = "A URL with a NUL character (%00) is not one of ours."


async def _refuse_nul(scope: Scope, receive: Receive, send: Send) -> None:
    body = problem_body(400, NUL_DETAIL, scope["path"])
    await JSONResponse(body, status_code=400, media_type=PROBLEM_JSON)(scope, receive, send)


class InboxLane:
    """A POST to an inbox goes straight to the receiver, past Starlette's router.

    It sits where Starlette puts the app's own middleware: inside its server-error layer
    (an unexpected exception is still logged and answered 500 there) and outside its
    exception layer and router, whose work it does itself for what a delivery can raise
    (an HTTPException such as the receiver's Rejected, a client gone mid-body) with the
    app's own handlers. Those layers and the 40-odd routes tried before a match
    were ~5 % of a delivery's CPU under bench/federation (py-spy). Every other request
    passes through untouched.
    """

    def __init__(self, app: ASGIApp, *, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response
        try:
            response = await request.app.state.inbox_receiver(request)
        except (HTTPException, ClientDisconnect) as error:
            # The app's own handler for it, as its exception layer would have chosen.
            handler = next(h for kind, h in exception_handlers.items() if isinstance(error, kind))
            response = await handler(request, error)
        await response(scope, receive, send)
