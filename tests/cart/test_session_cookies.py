"""The session cookie: what a shopper's browser carries is believed only while it is ours
and fresh, also once it has been checked before (decoded cookies are kept per process)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from cart.identity.sessions import _SALT, SessionCookies, new_anonymous_session
from cart.identity.signing import SignedValues

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


def test_cookies_signed_before_the_uncompressed_serializer_still_name_their_shopper() -> None:
    """Sessions and notices signed by itsdangerous's own serializer (which compresses a
    payload when that is shorter) outlive a deploy of SignedValues, and the other way."""
    old = URLSafeTimedSerializer(SECRET, salt=_SALT)
    shopper = new_anonymous_session()
    value = old.dumps({"s": shopper.sid, "c": shopper.cart_id})
    found = SessionCookies(SECRET, secure=True).decode(value)
    assert found is not None and (found.sid, found.cart_id) == (shopper.sid, shopper.cart_id)

    long_notice = ["Sourdough loaf: only 2 left, so your cart has 2. " * 6]
    compressed = old.dumps(long_notice)
    assert compressed.startswith("."), "the old serializer compressed this one"
    new = SignedValues(SECRET, salt=_SALT)
    assert new.loads(compressed) == long_notice
    assert old.loads(new.dumps(long_notice)) == long_notice
    assert not new.dumps(long_notice).startswith(".")
