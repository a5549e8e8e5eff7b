"""The inbox endpoints: the actor's own and the shared one behave the same.

The endpoint is a plain ASGI app, not a request function: Starlette wraps a function in
`request_response`, a second exception-handling layer and a Request of its own for each
call, which cost ~15 us a delivery (bench/federation). A refusal the receiver raises
still reaches the app's exception handlers, through Starlette's ExceptionMiddleware.
In the served app, `service.middleware.InboxLane` sends POSTs to these paths to the
receiver before the router; the routes stay for every other method and for apps
built without it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send


class _PostInbox:
    """An ASGI app (an instance, so Route does not wrap it as a request function)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await request.app.state.inbox_receiver(request)
        await response(scope, receive, send)


post_inbox = _PostInbox()


ACTOR_INBOX_PATH = "/actor/inbox"
SHARED_INBOX_PATH = "/inbox"
INBOX_PATHS = frozenset({ACTOR_INBOX_PATH, SHARED_INBOX_PATH})  # service.middleware.InboxLane


def inbox_routes(
    actor_inbox_path: str = ACTOR_INBOX_PATH, shared_path: str = SHARED_INBOX_PATH
) -> list[Route]:
    return [
        Route(actor_inbox_path, post_inbox, methods=["POST"]),
        Route(shared_path, post_inbox, methods=["POST"]),
    ]
