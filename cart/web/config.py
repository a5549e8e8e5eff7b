"""The web layer's start-up state, built once per app from the service's settings.

cart/ may not import service/, so the settings object is read duck-typed: it needs
`base_url`, `secret()`, `peers` (items with an `actor_id`), `time_zone` and
`fulfilment_default`. Everything
derived from the secret (cookie signer, CSRF key, password hasher, templates) lives here, built on
first use and kept on `app.state.cart_web`; the lead may also build it in the lifespan
with `configure_web(app.state)`. So does the wall clock every shopper and admin request
reads once as its `now` (`clock`, from `app.state.clock` where the composition root put
one; docs/design.md, "Time").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from itsdangerous import BadData
from jinja2 import Environment
from starlette.requests import Request

from actor.origin import web_origin_of
from cart.catalog.fulfilment import DefaultFulfilment, parse_default
from cart.identity.accounts import Passwords
from cart.identity.devices import DeviceCookies
from cart.identity.sessions import SessionCookies
from cart.identity.signing import SignedValues
from cart.web.csrf import CsrfTokens
from cart.web.order_links import OrderLinks
from cart.web.password_links import EmailVerifications, PasswordResets
from cart.web.templating import DEFAULT_ZONE, build_environment
from store import Clock, utcnow
from store.throttle import Refusals


class SettingsLike(Protocol):
    base_url: str

    def secret(self) -> str: ...


NOTICE_COOKIE = "rose_cart_notice"
_NOTICE_SALT = "rose-cart.notice.v1"
_NOTICE_MAX_AGE = 300


@dataclass
class WebConfig:
    base_url: str
    secure: bool
    cookies: SessionCookies
    devices: DeviceCookies
    csrf: CsrfTokens
    passwords: Passwords
    templates: Environment
    notices: SignedValues
    embedding_origins: frozenset[str]
    links: OrderLinks
    resets: PasswordResets
    verifications: EmailVerifications
    fulfilment_default: DefaultFulfilment
    clock: Clock = utcnow
    # Buckets the database found over their quota, remembered by this process until each
    # frees a slot (cart/web/quotas.py `admit`).
    refusals: Refusals = field(default_factory=Refusals)
    # Where mails are kept as .eml files when no SMTP server is configured (the demo);
    # None when mail is sent. Pages that say "check your mail" point there.
    kept_mail: str | None = None

    def encode_notices(self, messages: list[str]) -> str:
        return str(self.notices.dumps(messages))

    def decode_notices(self, value: str | None) -> list[str]:
        if not value:
            return []
        try:
            messages = self.notices.loads(value, max_age=_NOTICE_MAX_AGE)
        except BadData:
            return []
        if not isinstance(messages, list):
            return []
        return [m for m in messages if isinstance(m, str)][:20]


def build_config(
    settings: SettingsLike, passwords: Passwords | None = None, clock: Clock = utcnow
) -> WebConfig:
    secret = settings.secret()
    secure = settings.base_url.startswith("https://")
    peers: Iterable[Any] = getattr(settings, "peers", ()) or ()
    origins = {web_origin_of(getattr(peer, "actor_id", "")) for peer in peers}
    return WebConfig(
        base_url=settings.base_url,
        secure=secure,
        cookies=SessionCookies(secret, secure=secure),
        devices=DeviceCookies(secret, secure=secure),
        csrf=CsrfTokens(secret),
        passwords=passwords or Passwords(),
        templates=build_environment(getattr(settings, "time_zone", DEFAULT_ZONE)),
        notices=SignedValues(secret, salt=_NOTICE_SALT),
        embedding_origins=frozenset(o for o in origins if o),
        links=OrderLinks(secret, settings.base_url),
        resets=PasswordResets(secret, settings.base_url),
        verifications=EmailVerifications(secret, settings.base_url),
        fulfilment_default=parse_default(getattr(settings, "fulfilment_default", "pickup")),
        clock=clock,
        kept_mail=_kept_mail(settings),
    )


def _kept_mail(settings: SettingsLike) -> str | None:
    """DATA_DIR/mail/ when mails are kept there (no `smtp_url`), as the sender does."""
    data_dir, smtp = getattr(settings, "data_dir", None), getattr(settings, "smtp_url", None)
    if data_dir is None or (smtp.get_secret_value() if smtp is not None else None):
        return None
    return str(Path(data_dir).resolve() / "mail")


def configure_web(state: Any, passwords: Passwords | None = None) -> WebConfig:
    """Build the web config from `state.settings` (and `state.clock`, if set) and keep it on
    `state.cart_web`."""
    config = build_config(state.settings, passwords, getattr(state, "clock", utcnow))
    state.cart_web = config
    return config


def web_config(request: Request) -> WebConfig:
    state = request.app.state
    config = getattr(state, "cart_web", None)
    return config if config is not None else configure_web(state)
