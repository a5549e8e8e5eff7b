"""The words of the shopper's mails: subject, a plain text part and an HTML part.

mail/ sends rows that only name an order and a kind; this renderer, handed to the mail
worker at composition time, reads the order in a unit of work and fills the templates
in cart/web/templates/mail/. A receipt carries the seller (the page), the lines with
their times in the venue's zone, the total and the payment reference; every mail
carries the signed link that opens the order without an account.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from html import escape
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from cart.identity.accounts import Account, email_key
from cart.money import Money
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.web.order_links import OrderLinks
from cart.web.password_links import EmailVerifications, PasswordResets
from mail.sender import Rendered

# kind -> (subject, what happened, in one sentence)
ORDER_MAILS = {
    "order.placed": (
        "Your order {number} with {page}",
        "We have your order. It is waiting for payment.",
    ),
    "order.paid": (
        "Receipt for your order {number}",
        "Thank you: your payment is received. This is your receipt.",
    ),
    "order.cancelled": ("Your order {number} is cancelled", "Your order is cancelled."),
    "order.expired": (
        "Your order {number} was not paid in time",
        "Your order was not paid in time, so it is cancelled. No money was taken.",
    ),
    "order.failed": (
        "Your order {number} could not be placed",
        "{page} could not take your order. No money was taken.",
    ),
    "order.refund_requested": (
        "Your order {number} is being refunded",
        "{page} could not take your order, so your payment is being refunded.",
    ),
    "order.refunded": ("Your order {number} is refunded", "Your payment has been refunded."),
}


# Mails about an account (no order): kind -> (subject, body).
ACCOUNT_MAILS = {
    "account.password_changed": (
        "Your password was changed",
        "The password of your account with this e-mail address was just changed, while "
        "logged in. If that was you, there is nothing to do. If it was not, choose a new "
        'password at once with "Forgotten your password?" on the login page.',
    ),
}


def account_mail(kind: str) -> Rendered | None:
    words = ACCOUNT_MAILS.get(kind)
    if words is None:
        return None
    subject, body = words
    return Rendered(subject=subject, text=body + "\n", html=f"<p>{escape(body)}</p>")


def _with_links(subject: str, body: str, links: list[tuple[str, str]], after: str) -> Rendered:
    """A short account mail: a paragraph, its links, and a closing paragraph. The text
    part keeps every line under 78 characters (each link on a line of its own), so it is
    sent as 7-bit text: a kept .eml file (the demo) reads as it is, links unbroken."""
    text_links = "\n\n".join(f"{label}:\n{url}" for label, url in links)
    html_links = "".join(
        f'<p><a href="{escape(url)}">{escape(label)}</a></p>' for label, url in links
    )
    return Rendered(
        subject=subject,
        text=f"{textwrap.fill(body, 72)}\n\n{text_links}\n\n{textwrap.fill(after, 72)}\n",
        html=f"<p>{escape(body)}</p>{html_links}<p>{escape(after)}</p>",
    )


def registration_mail(link: str, hours: int) -> Rendered:
    """Written when it is queued: the link's token is stored nowhere else (only its hash)."""
    return _with_links(
        "Finish creating your account",
        "Someone (perhaps you) asked to create an account with this e-mail address. To "
        f"choose your password and finish, open this link within {hours} hours; it works once.",
        [("Finish creating my account", link)],
        "If it was not you, ignore this mail: no account is made without this link.",
    )


def register_attempt_mail(base_url: str) -> Rendered:
    """Registration answers the same whether or not an address has an account; its owner
    hears about the attempt instead."""
    return _with_links(
        "Someone tried to create an account with your address",
        "Someone (perhaps you) asked to create an account with this e-mail address, which "
        "already has one. Nothing was changed. If it was you, log in with your password, "
        "or choose a new one if you have forgotten it.",
        [("Log in", f"{base_url}/login"), ("Forgotten password", f"{base_url}/password/forgot")],
        "If it was not you, you can ignore this mail: your account and password are as before.",
    )


def _line(item: ShopOrderItem) -> dict[str, Any]:
    unit = Money(item.unit_amount, item.currency)
    return {
        "name": item.name,
        "quantity": item.quantity,
        "unit": unit,
        "total": unit * item.quantity,
        "start_time": item.start_time,
        "time_zone": item.time_zone,
        "rejected": item.claim_state == "rejected",
    }


def password_reset_mail(
    session: Session, account_id: int | None, resets: PasswordResets
) -> Rendered | None:
    account = session.get(Account, account_id) if account_id is not None else None
    if account is None:
        return None
    link = resets.url_for(account.id, account.password_hash)
    body = (
        "Someone (perhaps you) asked to choose a new password for the account with this "
        "e-mail address. To do so, open this link within an hour; it works once:"
    )
    after = "If it was not you, ignore this mail: your password is as before."
    return Rendered(
        subject="Choose a new password",
        text=f"{body}\n\n{link}\n\n{after}\n",
        html=f'<p>{escape(body)}</p><p><a href="{escape(link)}">Choose a new password</a></p>'
        f"<p>{after}</p>",
    )


def verify_email_mail(
    session: Session, account_id: int | None, verifications: EmailVerifications | None
) -> Rendered | None:
    account = session.get(Account, account_id) if account_id is not None else None
    if account is None or verifications is None or account.email_verified_at is not None:
        return None  # nothing to verify (already done, or the account is gone)
    link = verifications.url_for(account.id, email_key(account.email))
    body = (
        "Please confirm that this is your e-mail address, so that the co-op can reach you "
        "about your orders and you can always choose a new password. Open this link within "
        f"{verifications.max_age // 86_400} days:"
    )
    after = "If you did not create an account with us, ignore this mail."
    return Rendered(
        subject="Please confirm your e-mail address",
        text=f"{body}\n\n{link}\n\n{after}\n",
        html=f'<p>{escape(body)}</p><p><a href="{escape(link)}">Confirm my e-mail address</a>'
        f"</p><p>{after}</p>",
    )


def order_mail_renderer(
    html: Environment,
    text: Environment,
    links: OrderLinks,
    resets: PasswordResets,
    verifications: EmailVerifications | None = None,
) -> Callable[[Session, str, int | None, int | None], Rendered | None]:
    def render(
        session: Session, kind: str, order_id: int | None, account_id: int | None
    ) -> Rendered | None:
        if kind == "account.password_reset":
            return password_reset_mail(session, account_id, resets)
        if kind == "account.verify_email":
            return verify_email_mail(session, account_id, verifications)
        if kind == "account.register_attempt":
            return register_attempt_mail(resets.base_url)
        if kind in ACCOUNT_MAILS:
            return account_mail(kind)
        words = ORDER_MAILS.get(kind)
        order = session.get(ShopOrder, order_id) if order_id is not None else None
        if words is None or order is None:
            return None
        items = session.scalars(
            select(ShopOrderItem)
            .where(ShopOrderItem.order_id == order.id)
            .order_by(ShopOrderItem.position)
        ).all()
        facts = {"number": order.number, "page": order.page_name}
        context = {
            "kind": kind,
            "order": order,
            "lines": [_line(item) for item in items],
            "total": Money(order.total_amount, order.currency),
            "headline": words[1].format(**facts),
            "receipt": kind == "order.paid",
            "reference": order.transaction_id or order.checkout_id,
            "link": links.url_for(order.public_id),
            "link_days": links.max_age // 86_400,
        }
        return Rendered(
            subject=words[0].format(**facts),
            text=text.get_template("mail/order.txt").render(context),
            html=html.get_template("mail/order.html").render(context),
        )

    return render
