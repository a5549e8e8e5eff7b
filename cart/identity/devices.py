"""Device cookies: which browser has logged in to an account before.

A password guesser who spreads over many addresses (a botnet, an IPv6 range) is bounded
only by what the account allows from anywhere, and a bound per account is a lockout
anyone can trigger for the owner. OWASP's "Slow Down Online Guessing Attacks with Device
Cookies" (https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies)
splits the two: a browser that logged in to the account gets a signed device cookie;
login attempts that bring it are counted per device (a stranger cannot use them up),
and every other attempt shares one small budget per account (``cart/web/quotas.py``,
``login_checks``). While a guesser has used that budget up, the owner's own browsers
still log in; only a browser new to the account waits (or resets the password by mail).

The cookie says which account it is for only by a digest of the e-mail key (the value is
signed, not encrypted, and should not carry the address), plus a random nonce that names
the device's own budget. A success issues a new nonce, so a device's failures do not
follow it. A cookie that is not ours, too old, or for another account is no cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from itsdangerous import BadData
from starlette.requests import Request
from starlette.responses import Response

from cart.identity.signing import SignedValues

DEVICE_COOKIE = "rose_cart_device"
DEVICE_MAX_AGE = timedelta(days=365)
_SALT = "rose-cart.device.v1"


def _account_digest(email_key: str) -> str:
    return hashlib.sha256(email_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class DeviceCookies:
    """Encodes a device's cookie for an account and reads it back; built once from the secret."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        self.serializer = SignedValues(secret, salt=_SALT)
        self.secure = secure

    def encode(self, email_key: str) -> str:
        payload = {"k": _account_digest(email_key), "n": secrets.token_urlsafe(16)}
        return str(self.serializer.dumps(payload))

    def device(self, value: str | None, email_key: str) -> str | None:
        """The device's nonce when ``value`` is our fresh cookie for this account; else None."""
        if not value or len(value) > 512:
            return None
        try:
            payload = self.serializer.loads(value, max_age=int(DEVICE_MAX_AGE.total_seconds()))
        except BadData:
            return None
        if not isinstance(payload, dict) or payload.get("k") != _account_digest(email_key):
            return None
        nonce = payload.get("n")
        return nonce if isinstance(nonce, str) and nonce else None

    def of(self, request: Request, email_key: str) -> str | None:
        return self.device(request.cookies.get(DEVICE_COOKIE), email_key)

    def attach(self, response: Response, email_key: str) -> None:
        """A new device cookie for the account this browser just logged in to."""
        response.set_cookie(
            DEVICE_COOKIE,
            self.encode(email_key),
            max_age=int(DEVICE_MAX_AGE.total_seconds()),
            path="/login",  # read by the login form's POST alone
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )
