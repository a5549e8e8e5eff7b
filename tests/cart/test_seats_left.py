"""Seats left read as the venue reads them: "2 of 8 seats left" when the calendar says
how many seats there are in all (`capacity`), "2 seats left" when it does not."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from starlette.applications import Starlette

from tests.cart.web_support import seed
from tests.support.clock import Clock
from tests.support.factories import entry
from vocab.exceptions import ValidationError
from vocab.parse import parse
from vocab.writer import document as wire_document


@pytest.fixture
def app_clock() -> Clock:
    """The shop's clock at the factories' NOW: their entries start four days after it,
    so they are on sale whatever day the suite runs (the wall clock passed one of them)."""
    return Clock()


def _card(catalogue: str, name: str) -> str:
    return catalogue[catalogue.index(name) :][:1500]


async def test_an_entry_with_a_capacity_reads_seats_left_of_seats_in_all(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    pottery = dataclasses.replace(entry(9, name="Pottery taster", seats=2), capacity=2)
    await seed(web_app, pottery)
    catalogue = (await web_client.get("/")).text
    card = _card(catalogue, "Pottery taster")
    assert "2 of 2 seats left" in card and "Tickets available" not in card
    key = catalogue.split('<a href="/entries/')[1].split('"')[0]
    page = (await web_client.get(f"/entries/{key}")).text
    assert "2 of 2 seats left" in page


async def test_without_a_capacity_the_seats_left_alone_are_shown(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await seed(web_app, entry(9, name="Bread class", seats=3), entry(10, name="Jam workshop"))
    catalogue = (await web_client.get("/")).text
    assert "3 seats left" in _card(catalogue, "Bread class")
    assert " of " not in _card(catalogue, "Bread class").split("seats left")[0][-12:]
    assert "Tickets available" in _card(catalogue, "Jam workshop")


async def test_a_full_entry_is_sold_out_whatever_its_capacity(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await seed(web_app, dataclasses.replace(entry(9, name="Pottery taster", seats=0), capacity=2))
    card = _card((await web_client.get("/")).text, "Pottery taster")
    assert "Sold out" in card and "0 of 2" not in card


def test_capacity_round_trips_on_the_wire_and_a_negative_one_is_refused() -> None:
    pottery = dataclasses.replace(entry(9, seats=2), capacity=8)
    document = wire_document(pottery)
    assert document["capacity"] == 8 and document["stock"] == 2
    parsed = parse(document)
    assert parsed.capacity == 8  # type: ignore[union-attr]
    document["capacity"] = -1
    with pytest.raises(ValidationError, match="capacity"):
        parse(document)
