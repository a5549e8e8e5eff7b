"""Routes through which others find us: WebFinger, host-meta, NodeInfo and the actor IRI.

Each route reads the local actor from ``request.app.state.actor``, set at start-up by
the composition root. Bad input answers a 4xx through Starlette's ``HTTPException``;
the service's error handler turns it into problem+json or an HTML page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from actor import documents
from actor.icon import MEDIA_TYPE as ICON_MEDIA_TYPE
from actor.icon import icon_png
from actor.identity import LocalActor, software_version
from actor.negotiation import AS2, JRD, JSON, choose, wants_activity_json

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
)
CORS_ANY = {"Access-Control-Allow-Origin": "*"}
MAX_RESOURCE_LENGTH = 1024


def local_actor(request: Request) -> LocalActor:
    actor: LocalActor = request.app.state.actor
    return actor


def _json(data: Any, media_type: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, media_type=media_type, headers=headers)


def _json_media_type(request: Request, *media_types: str) -> str:
    """The JSON type the client prefers, else the first: a resource served only as JSON
    answers JSON whatever the Accept header says (RFC 7033 section 4.2 for WebFinger;
    clients send text/html, */*-less lists or nothing, and a 406 helps none of them)."""
    chosen = choose(request.headers.get("accept"), [(m, None) for m in media_types])
    return chosen or media_types[0]


def _resource_matches(actor: LocalActor, resource: str) -> bool:
    """Whether a WebFinger resource names our actor; raises 400 for a garbled one."""
    if resource.startswith(("http://", "https://")):
        return resource.rstrip("/") == actor.id
    account = resource[5:] if resource.lower().startswith("acct:") else resource
    if ":" in account.split("@")[0] and not resource.lower().startswith("acct:"):
        raise HTTPException(
            400, f"unsupported resource scheme in {resource!r}: use acct: or https:"
        )
    user, at, host = account.lstrip("@").rpartition("@")
    if not at or not user or not host or any(c.isspace() for c in account):
        raise HTTPException(
            400, f"resource {resource!r} is not of the form acct:user@host (e.g. {actor.acct})"
        )
    return user.lower() == actor.username.lower() and host.lower() == actor.host.lower()


async def webfinger(request: Request) -> Response:
    actor = local_actor(request)
    resources = request.query_params.getlist("resource")
    if len(resources) != 1 or not resources[0].strip():
        raise HTTPException(
            400, f"give exactly one resource query parameter, e.g. ?resource={actor.acct}"
        )
    resource = resources[0].strip()
    if len(resource) > MAX_RESOURCE_LENGTH:
        raise HTTPException(400, "the resource parameter is too long")
    media_type = _json_media_type(request, JRD, JSON)
    if not _resource_matches(actor, resource):
        raise HTTPException(404, f"no account {resource!r} here; this server has {actor.acct}")
    document = documents.webfinger_document(actor)
    rels = request.query_params.getlist("rel")
    if rels:
        document["links"] = [link for link in document["links"] if link["rel"] in rels]
    return _json(document, media_type, CORS_ANY)


async def host_meta(request: Request) -> Response:
    base_url = local_actor(request).base_url
    offers: list[tuple[str, str | None]] = [
        ("application/xrd+xml", None),
        (JRD, None),
        (JSON, None),
    ]
    if request.url.path.endswith(".json"):
        offers = offers[1:]
    chosen = choose(request.headers.get("accept"), offers)
    if chosen is None:
        raise HTTPException(
            406, "host-meta is served as application/xrd+xml or application/jrd+json"
        )
    if chosen == "application/xrd+xml":
        return Response(documents.host_meta_xml(base_url), media_type=chosen, headers=CORS_ANY)
    return _json(documents.host_meta_json(base_url), chosen, CORS_ANY)


async def nodeinfo_links(request: Request) -> Response:
    media_type = _json_media_type(request, JSON, JRD)
    return _json(documents.nodeinfo_links(local_actor(request).base_url), media_type, CORS_ANY)


async def nodeinfo(request: Request) -> Response:
    schema = request.path_params["schema"]
    if schema not in documents.NODEINFO_VERSIONS:
        raise HTTPException(404, "NodeInfo is served at /nodeinfo/2.1 and /nodeinfo/2.0")
    metadata = getattr(request.app.state, "nodeinfo_metadata", None)
    actor = local_actor(request)
    body = documents.nodeinfo_document(actor, software_version(), metadata, schema)
    profile = f'application/json; profile="{documents.NODEINFO_VERSIONS[schema]}#"'
    return _json(body, profile, CORS_ANY)


async def actor_icon(request: Request) -> Response:
    headers = {"Cache-Control": "public, max-age=86400", **CORS_ANY}
    return Response(icon_png(), media_type=ICON_MEDIA_TYPE, headers=headers)


async def actor_profile(request: Request) -> Response:
    actor = local_actor(request)
    representation = wants_activity_json(request.headers.get("accept"))
    vary = {"Vary": "Accept"}
    if representation == "as2":
        return _json(documents.actor_document(actor), AS2, vary)
    if representation == "html":
        page = _templates.get_template("profile.html").render(actor=actor)
        return HTMLResponse(page, headers=vary)
    raise HTTPException(
        406,
        "the actor is served as application/activity+json (also to application/json) "
        "or as text/html",
    )


def discovery_routes() -> list[Route]:
    return [
        Route("/.well-known/webfinger", webfinger, methods=["GET"]),
        Route("/.well-known/host-meta", host_meta, methods=["GET"]),
        Route("/.well-known/host-meta.json", host_meta, methods=["GET"]),
        Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET"]),
        Route("/nodeinfo/{schema}", nodeinfo, methods=["GET"]),
        Route("/actor", actor_profile, methods=["GET"]),
        Route("/actor/icon.png", actor_icon, methods=["GET"]),
    ]
