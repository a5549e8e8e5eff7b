"""Where a composed message goes: an SMTP server, or the kept-mail folder.

`ROSE_CART_SMTP_URL` names the server: `smtp://user:pass@host:587` speaks STARTTLS
when the server offers it (and always once credentials are given), `smtps://host:465`
implicit TLS. With no URL the mails are kept: each is written as DATA_DIR/mail/N.eml,
so a demo shows every mail a real shop would send. The password lives only in the
transport and is never part of an error or a log line.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from mail.models import KEPT, SENT
from store.held import outside_units

SMTP_TIMEOUT = 30.0


class Transport(Protocol):
    @property
    def outcome(self) -> str:
        """The status a mail takes once handed over: sent or kept."""
        ...

    async def send(self, mail_id: int, message: EmailMessage) -> None: ...


class MailUrlError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    outcome: str = SENT

    async def send(self, mail_id: int, message: EmailMessage) -> None:
        outside_units("sending a mail over SMTP")
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            # None: upgrade when offered; with credentials, insist on it.
            start_tls=None if self.implicit_tls or not self.username else True,
            timeout=SMTP_TIMEOUT,
        )


@dataclass(frozen=True)
class KeptMail:
    folder: Path
    outcome: str = KEPT

    def path_of(self, mail_id: int) -> Path:
        return self.folder / f"{mail_id:08d}.eml"

    async def send(self, mail_id: int, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, self.path_of(mail_id), bytes(message))

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # a reader never sees half a mail


def parse_smtp_url(url: str) -> SmtpTransport:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailUrlError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://host")
    try:
        port = parts.port
    except ValueError:
        raise MailUrlError("SMTP_URL has a port that is not a number") from None
    implicit = parts.scheme == "smtps"
    return SmtpTransport(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def transport_for(smtp_url: str | None, data_dir: Path) -> Transport:
    """SMTP when a URL is configured, else the kept-mail folder under DATA_DIR."""
    if smtp_url:
        return parse_smtp_url(smtp_url)
    return KeptMail(data_dir / "mail")
