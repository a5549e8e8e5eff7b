"""`/ns`: our JSON-LD context for programs, its documentation for people."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from actor.negotiation import HTML, JSON, LD_JSON, choose
from vocab.contexts import rose_context_document
from vocab.ns_page import render_ns_page


async def namespace(request: Request) -> Response:
    chosen = choose(request.headers.get("accept"), [(HTML, None), (LD_JSON, None), (JSON, None)])
    headers = {"Vary": "Accept", "Access-Control-Allow-Origin": "*"}
    if chosen == HTML:
        return HTMLResponse(
            render_ns_page(f"{request.app.state.actor.base_url}/ns"), headers=headers
        )
    if chosen is None:
        raise HTTPException(406, "the vocabulary is served as application/ld+json or text/html")
    return JSONResponse(rose_context_document(), media_type=LD_JSON, headers=headers)


vocabulary_routes = [Route("/ns", namespace, methods=["GET"])]
