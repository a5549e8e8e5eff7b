"""CSRF protection: one synchronizer token per session, checked on every POST form.

The token is an HMAC of the session id under a key derived from SECRET_KEY, so it needs
no storage, differs for every session, and changes when the session id is rotated at
login. A page embeds it in a hidden field; a POST without the matching token changes
nothing and is answered 403. SameSite=Lax cookies already stop most cross-site POSTs;
the token covers older browsers and same-site attackers (other co-op subdomains).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

FIELD_NAME = "csrf_token"
_LABEL = b"rose-cart.csrf.v1"


class CsrfTokens:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()

    def token_for(self, sid: str) -> str:
        digest = hmac.new(self._key, sid.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def is_valid(self, sid: str, submitted: object) -> bool:
        if not isinstance(submitted, str) or not submitted:
            return False
        return hmac.compare_digest(self.token_for(sid).encode(), submitted.encode())
