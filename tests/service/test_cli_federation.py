"""The operator's federation commands, run as an operator runs them, on both engines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from cart.admin.audit import AuditEntry
from outbox.models import DeliveryState, Follow, Follower, OutboxActivity, OutboxDelivery
from service.cli import main
from store import Database
from tests.conftest import TEST_SECRET

STRANGER = "https://stranger.example/actor"
MARKET = "https://market.example/actor"


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in {
        "ROSE_CART_DATA_DIR": str(tmp_path),
        "ROSE_CART_DATABASE_URL": database_url,
        "ROSE_CART_SECRET_KEY": TEST_SECRET,
        "ROSE_CART_BASE_URL": "https://cart.test",
        "ROSE_CART_PEERS": f"market={MARKET}",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    return run


def query(database_url: str, statement):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                return (await session.execute(statement)).all()
        finally:
            await db.dispose()

    return asyncio.run(go())


def change(database_url: str, *statements) -> None:  # type: ignore[no-untyped-def]
    async def go() -> None:
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                for statement in statements:
                    if isinstance(statement, Follower):
                        session.add(statement)
                    else:
                        await session.execute(statement)
        finally:
            await db.dispose()

    asyncio.run(go())


def test_a_pending_follow_request_is_listed_then_accepted_and_answered(
    cli, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    change(
        database_url,
        Follower(
            ap_actor_id=STRANGER,
            follow_ap_id=f"{STRANGER}/follows/1",
            state="pending",
            inbox=f"{STRANGER}/inbox",
        ),
    )
    listed = json.loads(cli("followers", "pending", "--json"))
    assert [row["actor"] for row in listed] == [STRANGER]
    assert "accepted" in cli("followers", "accept", STRANGER)
    assert query(database_url, select(Follower.state)) == [("accepted",)]
    [(body,)] = query(database_url, select(OutboxActivity.body))
    document = json.loads(body)
    assert document["type"] == "Accept"
    assert f"{STRANGER}/follows/1" in json.dumps(document["object"])
    assert "no pending follow requests" in cli("followers", "pending")
    # In the operators' audit log, written with the Accept, as /admin's decisions are.
    [(action, operator, target)] = query(
        database_url, select(AuditEntry.action, AuditEntry.operator, AuditEntry.target)
    )
    assert action == "accept_follower" and operator.endswith("(command line)")
    assert target == f"rose-cart followers accept {STRANGER}"


def test_accepting_someone_who_did_not_ask_is_a_clear_error(cli) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(main, ["followers", "accept", STRANGER])
    assert result.exit_code != 0
    assert STRANGER in result.output


def test_follow_queues_a_follow_and_peers_shows_it_pending(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert "queued" in cli("follow", MARKET)
    assert query(database_url, select(Follow.ap_object_id, Follow.state)) == [(MARKET, "pending")]
    [peer] = json.loads(cli("peers", "--json"))
    assert peer == {"role": "market", "actor": MARKET, "follow": "pending"}


def test_dead_deliveries_are_listed_and_retried(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    cli("follow", MARKET)
    change(
        database_url,
        update(OutboxDelivery).values(
            status=DeliveryState.DEAD,
            inbox=f"{MARKET}/inbox",
            last_status=404,
            last_error="Not Found",
        ),
    )
    status = json.loads(cli("deliveries", "status", "--json"))
    assert status["dead"] == 1
    [dead] = json.loads(cli("deliveries", "failed", "--json"))
    assert dead["last_status"] == 404
    assert "1 dead deliveries queued again" in cli("deliveries", "retry", "--all")
    assert query(
        database_url, select(func.count()).where(OutboxDelivery.status == DeliveryState.DEAD)
    ) == [(0,)]


def test_retry_without_ids_says_how_to_name_them(cli) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["deliveries", "retry"])
    assert result.exit_code == 2
    assert "deliveries failed" in result.output
