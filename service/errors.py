"""The one error handler: problem+json (RFC 9457) for API clients, an HTML page for people.

Exceptions raised anywhere may carry ``problem_type`` (a URI naming the kind of
problem) and ``extra`` (extension members); everything else is derived here, so every
error in the service has the same shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from actor.negotiation import HTML, JSON, choose
from service.logs import current_request_id

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("rose_cart.errors")
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
)


def problem_body(
    status: int, detail: str, instance: str, problem_type: str = "about:blank", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return body


def wants_html(request: Request) -> bool:
    accepted = choose(
        request.headers.get("accept"), [(PROBLEM_JSON, None), (JSON, None), (HTML, None)]
    )
    return accepted == HTML


def render_problem(
    request: Request, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if wants_html(request):
        page = _templates.get_template("error.html").render(problem=body)
        return HTMLResponse(page, status_code=body["status"], headers=headers)
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    body = problem_body(
        exc.status_code,
        str(exc.detail),
        request.url.path,
        getattr(exc, "problem_type", "about:blank"),
        **getattr(exc, "extra", {}),
    )
    return render_problem(request, body, dict(exc.headers or {}))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    body = problem_body(
        500,
        "something went wrong on our side; it has been logged with the request id below",
        request.url.path,
    )
    return render_problem(request, body)


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up (or was let go as too slow, service/server.py) before its body
    arrived: nobody will read an answer, and it is not our error."""
    log.info("client left before its request arrived", extra={"path": request.url.path})
    return Response(status_code=400)


exception_handlers = {
    HTTPException: http_error,
    ClientDisconnect: client_gone,
    Exception: server_error,
}
