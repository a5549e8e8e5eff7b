"""`rose-cart migrations status|down`: where the schema is, and taking it back a release.

Every process migrates up when it starts (store/migrate.py), so going down is for
rolling a release back: stop every process of the newer release, back up, take the
schema down to the older release's head, start the older release. Each migration's
downgrade is run by tests/store/test_migration_downgrades.py on both engines.
"""

from __future__ import annotations

import click

from service.cli_database import with_database
from service.settings import Settings
from store.migrate import current_revision, downgrade, head_revision, known_revision


@click.group("migrations")
def migrations() -> None:
    """The database schema: where it is, and going back a release."""


@migrations.command("status")
@click.pass_obj
def status(settings: Settings) -> None:
    """The database's revision beside this release's newest."""
    current = with_database(settings, lambda db: current_revision(db.engine))
    head = head_revision()
    if current == head:
        state = "up to date"
    elif current is None:
        state = "empty: `rose-cart init` (or serve, worker) migrates it"
    elif known_revision(current):
        state = "behind: `rose-cart init` (or serve, worker) migrates it"
    else:
        state = "ahead: a newer release migrated it; run that release, or go down from it"
    click.echo(f"database      {current or '(no schema)'}")
    click.echo(f"this release  {head}")
    click.echo(f"state         {state}")


@migrations.command("down")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Go down: what later migrations added is dropped.")
@click.pass_obj
def down(settings: Settings, revision: str, yes: bool) -> None:
    """Undo migrations down to REVISION: an older release's head, or "base" (nothing).

    Stop every process first: serve, worker and init migrate up again when they start.
    """
    if not known_revision(revision):
        raise click.ClickException(
            f"{revision!r} is not a revision of this release's migrations "
            "(see store/migrations/versions, or `rose-cart migrations status`)"
        )
    if not yes:
        raise click.ClickException(
            "going down drops what later migrations added, their data too: back up the "
            "database, stop every process, then run this again with --yes"
        )
    with_database(settings, lambda db: downgrade(db.engine, revision))
    click.echo(f"database at {revision}; start the release whose newest migration that is")


def register_commands(main: click.Group) -> None:
    main.add_command(migrations)
