"""Times read on the venue's clock with its zone: a July class at 19:00 in London says
19:00 BST, not the 18:00 UTC it is stored as; money reads in the shop's locale."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from cart.locale import spoken_datetime, spoken_money, spoken_time
from service.settings import Settings
from tests.cart.web_support import seed
from tests.support.factories import entry
from vocab.parse import parse
from vocab.writer import document as wire_document

JULY_CLASS = datetime(2027, 7, 17, 18, 0, tzinfo=UTC)  # 19:00 in London (BST)


def london_class() -> object:
    return dataclasses.replace(
        entry(9, name="Summer bread class", start=JULY_CLASS), time_zone="Europe/London"
    )


async def test_a_july_class_at_19_london_time_reads_19_bst_on_the_shop(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await seed(web_app, london_class())
    catalogue = (await web_client.get("/")).text
    assert "Saturday 17 July 2027, 19:00 BST" in catalogue
    assert "18:00" not in catalogue
    key = catalogue.split('<a href="/entries/')[1].split('"')[0]
    page = (await web_client.get(f"/entries/{key}")).text
    assert "Saturday 17 July 2027" in page and "19:00 BST – 21:00 BST" in page


async def test_without_a_zone_from_the_calendar_the_shop_zone_is_used(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await seed(web_app, entry(9, name="Summer bread class", start=JULY_CLASS))
    catalogue = (await web_client.get("/")).text
    assert "19:00 BST" in catalogue  # ROSE_CART_TIME_ZONE's default, Europe/London


def test_the_venue_zone_wins_and_winter_reads_gmt() -> None:
    assert spoken_time(JULY_CLASS, "Europe/Paris") == "20:00 CEST"
    winter = datetime(2027, 1, 9, 19, 0, tzinfo=UTC)
    assert spoken_datetime(winter, "Europe/London") == "Saturday 9 January 2027, 19:00 GMT"


def test_the_time_zone_round_trips_on_the_wire_and_an_unknown_one_is_ignored() -> None:
    document = wire_document(london_class())  # type: ignore[arg-type]
    assert document["timeZone"] == "Europe/London"
    assert parse(document).time_zone == "Europe/London"  # type: ignore[union-attr]
    document["timeZone"] = "Mars/Olympus_Mons"
    assert parse(document).time_zone is None  # type: ignore[union-attr]


def test_a_wrong_time_zone_setting_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        Settings(time_zone="Europe/Atlantis")


def test_money_reads_in_the_locale_and_keeps_finer_amounts() -> None:
    assert spoken_money(Decimal("1234.50"), "GBP") == "£1,234.50"
    assert spoken_money(Decimal("0.125"), "GBP") == "£0.125"
