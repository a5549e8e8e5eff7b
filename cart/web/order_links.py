"""A signed, expiring link that opens one order's page without an account or a cookie.

The link carries the order's random public id signed with the instance secret
(itsdangerous, its own salt): altering one character, or using it after LINK_DAYS,
opens nothing. It is what order mails point to, so a guest who changed device or
cleared cookies can still find the order.
"""

from __future__ import annotations

from itsdangerous import BadData, SignatureExpired

from cart.identity.signing import SignedValues

LINK_DAYS = 90
SALT = "rose-cart.order-link.v1"
PATH = "/orders/link/"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


class OrderLinks:
    def __init__(self, secret: str, base_url: str, *, max_age_days: int = LINK_DAYS) -> None:
        self.serializer = SignedValues(secret, salt=SALT)
        self.base_url = base_url.rstrip("/")
        self.max_age = max_age_days * 86_400

    def url_for(self, public_id: str) -> str:
        return f"{self.base_url}{PATH}{self.serializer.dumps(public_id)}"

    def public_id_from(self, token: str) -> str:
        if len(token) > 200:
            raise LinkInvalid()
        try:
            value = self.serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise LinkExpired() from None
        except BadData:
            raise LinkInvalid() from None
        if not isinstance(value, str):
            raise LinkInvalid()
        return value
