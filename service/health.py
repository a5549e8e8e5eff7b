"""Liveness and readiness probes for process supervisors and load balancers."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.errors import PROBLEM_JSON, problem_body

log = logging.getLogger("rose_cart.health")


async def healthz(request: Request) -> Response:
    """The process is up and serving requests."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The process can do its work: the database answers. ``payments`` says how money is
    taken (sumup, sandbox, or "not configured": browsing works, checkout refuses orders)."""
    try:
        await request.app.state.db.ping()
    except Exception as error:  # any failure to reach the database means not ready
        log.warning("database not reachable", extra={"error": type(error).__name__})
        body = problem_body(503, "the database is not reachable", request.url.path)
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)
    payments = getattr(request.app.state, "payments", None)
    mode = payments.mode if payments is not None else "not configured"
    return JSONResponse({"status": "ready", "database": "ok", "payments": mode})


health_routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
