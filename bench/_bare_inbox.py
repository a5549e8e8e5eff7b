"""The inbox benchmark's baseline: a bare Starlette endpoint that verifies the same
signature and digest with the same core and answers 202, storing nothing.

Run as `python -m bench._bare_inbox PORT PEM_FILE KEY_ID OWNER [CPU]`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actor.starlette_adapter import verify_starlette_request
from actor.verification import RemoteKey


class StaticKey:
    def __init__(self, key: RemoteKey) -> None:
        self.key = key

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        return self.key


def main() -> None:
    port, pem_file, key_id, owner = sys.argv[1:5]
    if len(sys.argv) > 5 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(sys.argv[5])})  # the core ours is pinned to
    public = serialization.load_pem_public_key(Path(pem_file).read_bytes())
    keys = StaticKey(RemoteKey(key_id, owner, public))  # type: ignore[arg-type]

    async def inbox(request: Request) -> Response:
        body = await request.body()
        result = await verify_starlette_request(request, body, keys)
        return Response(status_code=202 if result.ok else 401)

    app = Starlette(routes=[Route("/actor/inbox", inbox, methods=["POST"])])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(port),
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
