"""The `rose-cart` command line: init, serve, worker, and the operator's commands."""

from __future__ import annotations

import json
import sys

import click
from pydantic import ValidationError

from actor.keys import ED25519, RSA, ensure_keys, rotate_keys
from service import cli_federation, cli_migrations, cli_operators, cli_orders
from service.cli_audit import audit_cli
from service.cli_database import with_database
from service.logs import configure_logging
from service.settings import Settings
from store import Database, upgrade, utcnow

DEMO_SETTINGS = "demo-settings.json"  # written by demo/launcher.py for `make run`'s cart


def demo_settings(settings: Settings) -> Settings | None:
    """The demo cart's settings when `rose-cart` runs where `make run` keeps its data.

    `make run` runs the cart with DATA_DIR/cart and its peers in its own environment; a
    shell has neither. Rather than create a second, empty database under DATA_DIR (and
    fail the login that follows), use the demo cart's, saying so. Only when nothing
    points elsewhere: no DATABASE_URL and no database in DATA_DIR itself.
    """
    if settings.database_url or (settings.data_dir / "rose-cart.sqlite3").exists():
        return None
    path = settings.data_dir / "cart" / DEMO_SETTINGS
    if not path.is_file():
        return None
    values = json.loads(path.read_text(encoding="utf-8"))
    fields = {
        key.removeprefix("ROSE_CART_").lower(): value
        for key, value in values.items()
        if isinstance(key, str) and key.startswith("ROSE_CART_") and isinstance(value, str)
    }
    click.echo(f"(using the demo cart that `make run` keeps in {path.parent})", err=True)
    return Settings.model_validate(fields)


def load_settings() -> Settings:
    try:
        settings = Settings()
        return demo_settings(settings) or settings
    except ValidationError as error:
        for problem in error.errors():
            name = "ROSE_CART_" + "_".join(str(p) for p in problem["loc"]).upper()
            click.echo(f"error: {name}: {problem['msg']}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(context: click.Context) -> None:
    """rose-cart: the co-op's cart, checkout and order service (an ActivityPub actor).

    Configured by ROSE_CART_* environment variables; see the README.
    """
    context.obj = load_settings()


@main.command()
@click.pass_obj
def init(settings: Settings) -> None:
    """Create the data directory, secret, database schema and key pairs (idempotent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.ensure_secret():
        click.echo(f"created secret      {settings.secret_file} (mode 0600)")
    secret = settings.secret()

    async def work(db: Database) -> bool:
        await upgrade(db.engine)
        async with db.transaction() as session:
            return await ensure_keys(session, secret)

    created = with_database(settings, work)
    click.echo(f"database migrated   {settings.resolved_database_url.split('?')[0]}")
    click.echo("key pairs           " + ("created (RSA-2048, Ed25519)" if created else "present"))
    click.echo(f"actor               {settings.base_url}/actor")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-workers", is_flag=True, help="Web only: run no background workers here.")
@click.pass_obj
def serve(settings: Settings, host: str, port: int, no_workers: bool) -> None:
    """Serve the web app (migrations are applied at start)."""
    import uvicorn

    from service import server
    from service.app import create_app
    from store.affinity import pin_process

    configure_logging(settings.log_level)
    # Before any thread starts, so that the database threads share the loop's core.
    try:
        pin_process(settings.cpu_pin, settings.resolved_database_url)
    except ValueError as error:  # a CPU this process may not use
        raise click.ClickException(str(error)) from error
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.ensure_secret()
    if no_workers:
        settings = settings.model_copy(update={"workers": False})
    click.echo(
        f"rose-cart serving {settings.base_url}/actor on http://{host}:{port}  (Ctrl-C stops)"
    )
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        loop="uvloop",
        ws="none",  # no route of ours is a websocket: an Upgrade is a plain request
        http=server.TimelyHttpTools,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    server.run(config)


@main.group()
def keys() -> None:
    """Our signing keys."""


@keys.command("rotate")
@click.option("--only", type=click.Choice([RSA, ED25519]), help="Rotate one kind only.")
@click.pass_obj
def keys_rotate(settings: Settings, only: str | None) -> None:
    """Retire the active key pairs and create new ones; peers refetch on their next check."""
    secret = settings.secret()

    async def work(db: Database) -> None:
        async with db.transaction() as session:
            kinds = (only,) if only else (RSA, ED25519)
            await rotate_keys(session, secret, kinds, utcnow())
            await audit_cli(
                session, "rotate_keys", f"keys rotate{' --only ' + only if only else ''}"
            )

    with_database(settings, work)
    click.echo("rotated " + (only or "rsa and ed25519") + " keys; restart running processes")


cli_federation.register(main)
cli_operators.register_commands(main)
cli_orders.register_commands(main)
cli_migrations.register_commands(main)
