"""`/metrics`: what an operator's Prometheus scrapes, on both engines."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from cart.catalog.backfill_jobs import CatalogBackfill
from cart.orders.models import ShopOrder
from inbox.models import InboxActivity
from outbox.models import Follower, OutboxActivity, OutboxDelivery
from service import metrics
from store import Database, utcnow
from tests.support.held_pool import CEILING, pool_taken


def samples(text: str) -> dict[str, float]:
    """The exposition's sample lines as {'name{labels}': value}."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


async def test_an_empty_instance_reports_every_queue_at_zero(client: httpx.AsyncClient) -> None:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = samples(answer.text)
    assert values['rose_cart_inbox_activities{status="pending"}'] == 0
    assert values['rose_cart_outbox_deliveries{state="pending"}'] == 0
    assert values['rose_cart_outbox_deliveries{state="dead"}'] == 0
    assert values['rose_cart_orders{status="paid"}'] == 0
    assert values['rose_cart_followers{state="accepted"}'] == 0
    assert values["rose_cart_catalog_backfills_pending"] == 0
    assert values["rose_cart_up"] == 1
    # Every family is declared once, so Prometheus accepts the page.
    types = [line.split()[2] for line in answer.text.splitlines() if line.startswith("# TYPE")]
    assert len(types) == len(set(types))
    assert set(types) == {
        "rose_cart_inbox_activities",
        "rose_cart_outbox_deliveries",
        "rose_cart_orders",
        "rose_cart_followers",
        "rose_cart_remote_actors",
        "rose_cart_catalog_backfills_pending",
        "rose_cart_throttle_hits",
        "rose_cart_pending_registrations",
        "rose_cart_paced_refusals_total",
        "rose_cart_inbox_dropped_total",
        "rose_cart_up",
    }
    # Per-client pacing's refusals (this process's own counter): every rule, from zero.
    assert values['rose_cart_paced_refusals_total{rule="login"}'] == 0
    assert values['rose_cart_paced_refusals_total{rule="webhook"}'] == 0
    assert values["rose_cart_throttle_hits"] == 0
    assert values["rose_cart_pending_registrations"] == 0
    # Strangers' activities acknowledged and dropped unstored (this process's counter).
    assert values["rose_cart_inbox_dropped_total"] == 0


async def test_queue_depths_and_outcomes_follow_the_database(
    client: httpx.AsyncClient, db: Database
) -> None:
    now = utcnow()
    async with db.transaction() as session:
        for n, status in enumerate(["pending", "pending", "done", "failed"]):
            session.add(
                InboxActivity(
                    ap_id=f"https://market.test/a/{n}",
                    ap_actor_id="https://market.test/actor",
                    activity_type="Create",
                    body="{}",
                    status=status,
                )
            )
        for host, state in (("coop.test", "accepted"), ("other.test", "pending")):
            session.add(
                Follower(
                    ap_actor_id=f"https://{host}/actor",
                    follow_ap_id=f"https://{host}/f/1",
                    state=state,
                )
            )
        activity = OutboxActivity(
            ap_id="https://cart.test/activities/1", activity_type="Create", body="{}"
        )
        session.add(activity)
        await session.flush()
        for n, status in enumerate(["pending", "pending", "pending", "done", "dead"]):
            inbox = f"https://coop{n}.test/inbox"
            session.add(
                OutboxDelivery(
                    activity_id=activity.id, inbox=inbox, host=f"coop{n}.test", status=status
                )
            )
        for n, status in enumerate(["pending", "paid"]):
            session.add(
                ShopOrder(
                    public_id=f"o{n}",
                    ap_id=f"https://cart.test/orders/o{n}",
                    cart_id="c1",
                    page_key="shop",
                    page_name="Shop",
                    status=status,
                    currency="EUR",
                    total_amount=Decimal("3.50"),
                    checkout_token=f"t{n}",
                    valid_until=now + timedelta(hours=1),
                )
            )
        market = "https://market.test/actor"
        session.add(CatalogBackfill(ap_actor_id=market, requested_at=now, due_at=now, attempts=0))
    values = samples((await client.get("/metrics")).text)
    assert values['rose_cart_inbox_activities{status="pending"}'] == 2
    assert values['rose_cart_inbox_activities{status="done"}'] == 1
    assert values['rose_cart_inbox_activities{status="failed"}'] == 1
    assert values['rose_cart_outbox_deliveries{state="pending"}'] == 3
    assert values['rose_cart_outbox_deliveries{state="done"}'] == 1
    assert values['rose_cart_outbox_deliveries{state="dead"}'] == 1
    assert values['rose_cart_orders{status="pending"}'] == 1
    assert values['rose_cart_orders{status="paid"}'] == 1
    assert values['rose_cart_followers{state="accepted"}'] == 1
    assert values['rose_cart_followers{state="pending"}'] == 1
    assert values["rose_cart_catalog_backfills_pending"] == 1


async def test_a_lost_database_reads_as_down_not_as_empty_queues(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(database: Database) -> str:
        raise OSError("connection refused")

    monkeypatch.setattr(metrics, "collect", broken)
    answer = await client.get("/metrics")
    assert answer.status_code == 503
    assert samples(answer.text) == {"rose_cart_up": 0}


async def test_a_scrape_is_read_while_another_request_holds_the_pooled_connection(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """The counts are one read unit on a snapshot: a scrape waits for no pooled
    connection, as a shopper's page does not (issue 18)."""
    async with pool_taken(app.state.db):
        answer = await asyncio.wait_for(client.get("/metrics"), CEILING)
    assert answer.status_code == 200
    assert samples(answer.text)["rose_cart_up"] == 1
