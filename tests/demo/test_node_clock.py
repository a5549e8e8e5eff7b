"""A demo node's clock comes from its composition: the calendar's classes follow it.

The calendar dates its classes from the day it first starts, so a node built with a test
`Clock` in another season lists them in that season, at their hour in the venue's zone.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx

from demo.calendar import calendar_node
from demo.node import NodeConfig
from tests.support.clock import Clock


async def test_a_calendar_built_with_a_clock_dates_its_classes_from_that_clock(
    tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "rose-cart.sqlite3")
    july = Clock(datetime(2030, 7, 1, 8, 0, tzinfo=UTC))
    node = calendar_node(
        NodeConfig(
            base_url="https://calendar.test",
            username="calendar",
            name="The Co-op Calendar",
            data_dir=tmp_path,
            workers=False,
            clock=july,
        )
    )
    app = node.app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://calendar.test"
        ) as client,
    ):
        answer = await client.get(
            "/entries/bread-class", headers={"Accept": "application/activity+json"}
        )

    assert answer.status_code == 200
    # Five days on, at 10:00 in London: 09:00 UTC in summer time.
    assert answer.json()["startTime"].startswith("2030-07-06T09:00")
