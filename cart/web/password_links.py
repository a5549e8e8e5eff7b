"""The signed link of a password reset: an account id and a digest of its current hash.

Valid RESET_SECONDS (an hour) and only while the password is unchanged, so it opens
once. The digest, not the hash, travels in the URL.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadData, URLSafeTimedSerializer

RESET_SALT = "rose-cart.password-reset.v1"
RESET_SECONDS = 3600


def tag_of(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


class PasswordResets:
    def __init__(self, secret: str, base_url: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt=RESET_SALT)
        self.base_url = base_url.rstrip("/")

    def url_for(self, account_id: int, password_hash: str) -> str:
        token = self.serializer.dumps([account_id, tag_of(password_hash)])
        return f"{self.base_url}/password/reset/{token}"

    def account_id_from(self, token: str) -> tuple[int, str] | None:
        """(account id, hash tag) of a good, young token; None for anything else."""
        if len(token) > 300:
            return None
        try:
            value = self.serializer.loads(token, max_age=RESET_SECONDS)
        except BadData:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not isinstance(value[0], int)
            or not isinstance(value[1], str)
        ):
            return None
        return value[0], value[1]
