"""One origin rule for every check that compares where two URLs live.

A key must live on its actor's origin, an activity's ids on its sender's, a catalogue
page on its peer's: each of those refuses when `same_origin` says no, so these cases
pin what "the same origin" means, including the ones where a looser rule would let a
forged key or object through.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from actor.origin import origin_of, same_origin, web_origin_of
from actor.verification import key_origin_matches
from cart.catalog.mirror import owned_by
from vocab.model import MonetaryAmount, Product


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://market.example/actor", "https://market.example/keys/1", True),
        ("https://Market.EXAMPLE/actor", "https://market.example/actor#main-key", True),
        ("HTTPS://market.example/a", "https://market.example/b", True),
        ("https://market.example/a", "http://market.example/a", False),
        # ports as written: no default-port folding, in either direction
        ("https://market.example:443/a", "https://market.example/a", False),
        ("http://market.example:80/a", "http://market.example/a", False),
        ("https://market.example:8443/a", "https://market.example:8443/b", True),
        ("https://market.example:8443/a", "https://market.example:8444/a", False),
        # userinfo is part of what is compared: it never disguises another host
        ("https://evil@market.example/a", "https://market.example/a", False),
        ("https://market.example@evil.example/a", "https://market.example/a", False),
        # an internationalised host and its IDNA form are not folded together
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a", False),
        ("https://BÜCHER.example/a", "https://bücher.example/b", True),
        ("https://market.example.evil.example/a", "https://market.example/a", False),
        # an id that merely starts like the actor's origin (the common case's shortcut)
        ("https://market.example:8080/a", "https://market.example:80/b", False),
        ("https://market.exampleX/a", "https://market.example/b", False),
        ("https://market.example", "https://market.example/b", True),
        ("https://market.example?x=1", "https://market.example/b", True),
        ("https://market.example/\ta", "https://market.example/b", True),
        ("://market.example/x", "//market.example/y", False),  # no scheme: no shortcut
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(a, b) is same
    assert same_origin(b, a) is same


def test_the_origin_is_scheme_and_authority_lower_cased() -> None:
    assert origin_of("HTTPS://Cart.Example:8443/inbox?x=1#f") == "https://cart.example:8443"
    assert origin_of("https://u:p@Cart.Example/") == "https://u:p@cart.example"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Market.Example/actor", "https://market.example"),
        ("http://127.0.0.1:8001/actor", "http://127.0.0.1:8001"),
        ("ftp://market.example/actor", None),
        ("https:///no-host", None),
        ("market.example/actor", None),
    ],
)
def test_a_web_origin_needs_http_or_https_and_a_host(url: str, origin: str | None) -> None:
    assert web_origin_of(url) == origin


def test_a_key_on_another_port_or_behind_userinfo_is_not_the_actors() -> None:
    actor = "https://market.example/actor"
    assert key_origin_matches("https://MARKET.example/actor#main-key", actor)
    assert not key_origin_matches("https://market.example:443/actor#main-key", actor)
    assert not key_origin_matches("https://market.example@evil.example/k", actor)


def test_a_product_is_owned_only_on_its_senders_exact_origin() -> None:
    sender = "https://market.example/actor"
    price = MonetaryAmount(amount=Decimal("3.50"), currency="EUR")
    ours = Product(id="https://MARKET.example/p/1", attributed_to=sender, name="Jam", price=price)
    other_port = Product(
        id="https://market.example:8443/p/1", attributed_to=sender, name="Jam", price=price
    )
    assert owned_by(ours, sender)
    assert not owned_by(other_port, sender)
