"""The session cookie: what a shopper's browser carries is believed only while it is ours
and fresh, also once it has been checked before (decoded cookies are kept per process)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from cart.identity.sessions import SessionCookies, new_anonymous_session

SECRET = "cookie-test-" + "s" * 40


def test_a_returning_shoppers_cookie_names_the_same_cart_each_time() -> None:
    cookies = SessionCookies(SECRET, secure=True)
    shopper = new_anonymous_session()
    value = cookies.encode(shopper)
    first, again = cookies.decode(value), cookies.decode(value)
    assert first is not None and again == first
    assert (first.sid, first.cart_id, first.changed) == (shopper.sid, shopper.cart_id, False)


def test_a_changed_or_foreign_cookie_is_refused_after_the_genuine_one_was_seen() -> None:
    cookies = SessionCookies(SECRET, secure=True)
    value = cookies.encode(new_anonymous_session())
    assert cookies.decode(value) is not None
    assert cookies.decode(value[:-2] + ("AA" if not value.endswith("AA") else "BB")) is None
    other_shop = SessionCookies("another-" + "k" * 40, secure=True)
    assert other_shop.decode(value) is None


def test_a_cookie_older_than_its_max_age_is_refused_even_once_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cookies = SessionCookies(SECRET, secure=True, max_age=timedelta(days=30))
    value = cookies.encode(new_anonymous_session())
    assert cookies.decode(value) is not None  # checked while fresh
    later = time.time() + timedelta(days=31).total_seconds()
    monkeypatch.setattr(time, "time", lambda: later)
    assert cookies.decode(value) is None
    assert cookies.decode(value) is None
