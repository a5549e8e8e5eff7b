"""`rose-cart operators add|list`: the accounts that may use the admin pages."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from cart.identity.accounts import (
    Account,
    AccountError,
    Passwords,
    Role,
    email_key,
    register,
)
from service.cli_audit import record_cli
from service.cli_database import with_database
from service.settings import Settings
from store import Database


def _promote(session: Session, email: str) -> tuple[str, str] | None:
    """A unit: make the account with this address an operator; (its address, its old role)."""
    account = session.scalar(select(Account).where(Account.email_key == email_key(email)))
    if account is None:
        return None
    previous, account.role = account.role, Role.OPERATOR.value
    if previous != Role.OPERATOR.value:
        record_cli(session, "add_operator", f"operators add {account.email}")
    return account.email, previous


def _operators(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Account).where(Account.role == Role.OPERATOR.value).order_by(Account.id)
    )
    return [{"email": a.email, "since": a.created_at} for a in rows.scalars()]


def register_commands(main: click.Group) -> None:
    main.add_command(operators)


@click.group()
def operators() -> None:
    """Operator accounts: who may use the admin pages at /admin."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt="Repeat password"))


@operators.command("add")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.pass_obj
def operators_add(settings: Settings, email: str, password_stdin: bool) -> None:
    """Make EMAIL an operator: promotes an existing account, or creates one (asks a password)."""

    found = with_database(settings, lambda db: db.write(_promote, email), migrate=True)
    if found is not None:
        stored, previous = found
        if previous == Role.OPERATOR:
            click.echo(f"{stored} already is an operator")
        else:
            click.echo(f"promoted {stored} to operator (the password is unchanged)")
        return
    password = _read_password(password_stdin)

    async def create(db: Database) -> None:
        await register(db, Passwords(), email, password, role=Role.OPERATOR)
        await db.write(record_cli, "add_operator", f"operators add {email}")

    try:
        with_database(settings, create, migrate=True)
    except AccountError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"created operator {email}; log in at {settings.base_url}/login, then go to /admin")


@operators.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def operators_list(settings: Settings, as_json: bool) -> None:
    """Every operator account."""

    listed = with_database(settings, lambda db: db.read(_operators), migrate=True)
    if as_json:
        click.echo(json.dumps(listed, default=str, indent=2))
        return
    if not listed:
        click.echo("no operators yet: rose-cart operators add EMAIL")
    for row in listed:
        click.echo(f"{row['email']}")
