"""Wiring of transactional mail: the transport the settings choose, the cart's renderer.

`ROSE_CART_SMTP_URL` set: mail goes to that server. Unset (the embedded default and the
demo): mails are kept as .eml files under DATA_DIR/mail/ and listed at /admin/mail.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from cart.web.config import build_config
from cart.web.mails import order_mail_renderer
from cart.web.templating import build_environment
from mail.sender import MailSender
from mail.transport import transport_for
from service.settings import Settings
from store import Database


def sender_address(settings: Settings) -> str:
    if settings.mail_from:
        return settings.mail_from
    host = urlsplit(settings.base_url).hostname or "localhost"
    return f"Co-op cart <{settings.username}@{host}>"


def build_mail_sender(settings: Settings, db: Database) -> MailSender:
    config = build_config(settings)
    smtp = settings.smtp_url.get_secret_value() if settings.smtp_url is not None else None
    render = order_mail_renderer(
        config.templates,
        build_environment(settings.time_zone, html=False),
        config.links,
        config.resets,
        config.verifications,
    )
    return MailSender(
        db,
        transport_for(smtp, settings.data_dir),
        render,
        sender=sender_address(settings),
        retention=timedelta(days=settings.mail_retention_days),
    )
