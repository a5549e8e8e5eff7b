"""Pictures from our own origin: /images/<sha-256 of the bytes>.

Our copy of a peer's picture (cart/catalog/images.py), never a link to the peer's
server. The name is the content's digest, so an answer never changes and may be cached
for a year. The type is the one its first bytes showed when it was fetched (PNG, JPEG,
WebP or GIF, never SVG); `nosniff` keeps browsers to it, and a CSP of its own
(`default-src 'none'; sandbox`) means that even opened on its own it can run nothing.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cart.catalog.images import stored_image

DIGEST = re.compile(r"[0-9a-f]{64}")
HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


async def image(request: Request) -> Response:
    digest = request.path_params["digest"]
    if not DIGEST.fullmatch(digest):
        raise HTTPException(404, "No such picture.")
    etag = f'"{digest}"'
    if request.headers.get("if-none-match") == etag:  # the name is the content: unchanged
        return Response(status_code=304, headers={**HEADERS, "ETag": etag})
    found = await request.app.state.db.read(stored_image, digest)
    if found is None:
        raise HTTPException(404, "No such picture.")
    media_type, data = found
    return Response(data, media_type=media_type, headers={**HEADERS, "ETag": etag})


def image_routes() -> list[BaseRoute]:
    return [Route("/images/{digest}", image, methods=["GET", "HEAD"])]
