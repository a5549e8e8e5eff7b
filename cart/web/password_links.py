"""Signed links about an account: choosing a new password, and verifying an e-mail address.

Each signs the account id and a digest (`tag_of`) of what the link is about, so it stops
working as soon as that changes: a reset link signs the current password hash (valid
RESET_SECONDS, an hour, and once: the password then changes), a verification link the
address (valid VERIFY_SECONDS, three days; a changed address needs a new link). The
digest, not the value, travels in the URL; each kind has its own salt, so one cannot be
used as the other.
"""

from __future__ import annotations

from itsdangerous import BadData

from cart.identity.account_changes import tag_of
from cart.identity.signing import SignedValues

RESET_SALT = "rose-cart.password-reset.v1"
RESET_SECONDS = 3600
VERIFY_SALT = "rose-cart.verify-email.v1"
VERIFY_SECONDS = 3 * 86_400

__all__ = ["AccountLinks", "EmailVerifications", "PasswordResets", "tag_of"]


class AccountLinks:
    """Links to `{base_url}{path}/{token}` that name an account and a digest, for a while."""

    def __init__(self, secret: str, base_url: str, *, salt: str, path: str, seconds: int) -> None:
        self.serializer = SignedValues(secret, salt=salt)
        self.base_url = base_url.rstrip("/")
        self.path, self.max_age = path, seconds

    def url_for(self, account_id: int, about: str) -> str:
        token = self.serializer.dumps([account_id, tag_of(about)])
        return f"{self.base_url}{self.path}/{token}"

    def account_id_from(self, token: str) -> tuple[int, str] | None:
        """(account id, tag) of a good, young token; None for anything else."""
        if len(token) > 300:
            return None
        try:
            value = self.serializer.loads(token, max_age=self.max_age)
        except BadData:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or type(value[0]) is not int
            or not isinstance(value[1], str)
        ):
            return None
        return value[0], value[1]


class PasswordResets(AccountLinks):
    """`url_for(account_id, password_hash)`: a new password, within the hour, once."""

    def __init__(self, secret: str, base_url: str) -> None:
        super().__init__(
            secret, base_url, salt=RESET_SALT, path="/password/reset", seconds=RESET_SECONDS
        )


class EmailVerifications(AccountLinks):
    """`url_for(account_id, email_key)`: proof that the address reaches its owner."""

    def __init__(self, secret: str, base_url: str) -> None:
        super().__init__(
            secret, base_url, salt=VERIFY_SALT, path="/account/verify", seconds=VERIFY_SECONDS
        )
