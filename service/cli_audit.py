"""Operator actions from the command line, in the same audit log as the admin pages' ones.

`rose-cart` commands that change something (a refund, a follow decision, a follow or
unfollow, retried deliveries, rotated keys, a new operator) add one row to `admin_audit`
(cart.admin.audit) in the transaction of the change itself, so the log shows what was
done from a shell exactly as it shows what was done in /admin. Whoever ran it is the
login name of the shell's user, marked as the command line; the target is the command.
"""

from __future__ import annotations

import getpass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cart.admin.audit import record_action
from store import utcnow


def cli_operator() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's anonymous uid)
        name = "unknown user"
    return f"{name} (command line)"


def record_cli(session: Session, action: str, command: str) -> None:
    """A unit step: one audit row for `rose-cart COMMAND`, in the caller's transaction,
    dated by the wall clock (a command line is outside any component with a clock)."""
    record_action(session, cli_operator(), action, f"rose-cart {command}", "done", utcnow())


async def audit_cli(session: AsyncSession, action: str, command: str) -> None:
    await session.run_sync(record_cli, action, command)
