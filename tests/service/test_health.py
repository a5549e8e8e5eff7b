"""Probes a supervisor relies on."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette


async def test_a_running_service_is_live_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_when_the_database_is_gone_readiness_says_so(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await app.state.db.dispose()

    async def broken() -> None:
        raise OSError("connection refused")

    app.state.db.ping = broken
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["detail"] == "the database is not reachable"
