"""The inbox endpoints: the actor's own and the shared one behave the same."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def post_inbox(request: Request) -> Response:
    response: Response = await request.app.state.inbox_receiver(request)
    return response


def inbox_routes(
    actor_inbox_path: str = "/actor/inbox", shared_path: str = "/inbox"
) -> list[Route]:
    return [
        Route(actor_inbox_path, post_inbox, methods=["POST"]),
        Route(shared_path, post_inbox, methods=["POST"]),
    ]
