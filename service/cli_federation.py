"""Operator commands for federation: peers, followers, follows, deliveries, the worker.

Every listing takes --json for scripts; long operations show a progress bar (on stderr,
so --json output stays clean).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actor.identity import LocalActor
from outbox.exceptions import OutboxError
from outbox.followers import (
    accept_follower,
    pending_followers,
    reject_follower,
    send_follow,
    send_undo_follow,
)
from outbox.models import Follow, Follower, OutboxDelivery
from outbox.queue import delivery_status, failed_deliveries, retry_deliveries
from outbox.states import DeliveryState
from service.cli_audit import audit_cli
from service.settings import Settings
from store import Database, utcnow
from store.exceptions import IllegalTransition

T = TypeVar("T")
RETRY_CHUNK = 200


def _emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, default=str, indent=2))
    else:
        text()


def _run(settings: Settings, work: Callable[[Database, LocalActor], Awaitable[T]]) -> T:
    from service.app import prepare

    # like `serve`: a first command on a fresh machine prepares the data directory itself
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.ensure_secret()

    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            return await work(db, await prepare(settings, db))
        finally:
            await db.dispose()

    return asyncio.run(run())


def _in_transaction(
    settings: Settings, work: Callable[[AsyncSession, LocalActor], Awaitable[T]]
) -> T:
    async def run(db: Database, actor: LocalActor) -> T:
        async with db.transaction() as session:
            return await work(session, actor)

    return _run(settings, run)


def register(main: click.Group) -> None:
    main.add_command(peers)
    main.add_command(followers)
    main.add_command(follow)
    main.add_command(unfollow)
    main.add_command(deliveries)
    main.add_command(worker)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def peers(context: click.Context, as_json: bool) -> None:
    """The configured PEERS and where our follow of each stands (or a subcommand)."""
    if context.invoked_subcommand is not None:
        return
    settings: Settings = context.obj

    async def work(session: AsyncSession, _actor: LocalActor) -> list[dict[str, str]]:
        rows = {f.ap_object_id: f.state for f in (await session.execute(select(Follow))).scalars()}
        return [
            {"role": p.role, "actor": p.actor_id, "follow": rows.get(p.actor_id, "not sent")}
            for p in settings.peers
        ]

    listed = _in_transaction(settings, work)

    def text() -> None:
        if not listed:
            click.echo("no peers configured: set ROSE_CART_PEERS=market=https://…/actor,…")
        for peer in listed:
            click.echo(f"{peer['role']:<9} {peer['follow']:<9} {peer['actor']}")

    _emit(listed, as_json, text)


@peers.command("backfill")
@click.argument("iri")
@click.pass_obj
def peers_backfill(settings: Settings, iri: str) -> None:
    """Fill the catalogue mirror again from a peer's catalog (signed, paged GETs)."""
    from actor.fetch import Fetcher, FetchSettings
    from actor.http_auth import SignatureAuth
    from actor.signatures import SigningKey
    from cart.catalog.backfill import BackfillReport, backfill_catalog

    role = next((p.role for p in settings.peers if p.actor_id == iri), None)

    async def work(db: Database, actor: LocalActor) -> BackfillReport:
        auth = SignatureAuth(SigningKey(actor.key_id, actor.keys.rsa.private))
        fetcher = Fetcher(
            FetchSettings(
                allow_private=settings.allow_private_addresses, user_agent=actor.user_agent
            ),
            auth=auth,
        )
        with click.progressbar(length=0, label="pages", file=sys.stderr, show_pos=True) as bar:

            def progress(report: BackfillReport) -> None:
                bar.label = f"page {report.pages}: {report.seen} items"
                bar.update(1)

            try:
                return await backfill_catalog(db, fetcher, auth, iri, role=role, progress=progress)
            finally:
                await fetcher.aclose()

    report = _run(settings, work)
    click.echo(
        f"{report.seen} items on {report.pages} pages: {report.created} new, {report.updated} "
        f"updated, {report.unchanged} unchanged, {report.refused} refused, {report.failed} failed"
    )
    if not report.complete:
        raise click.ClickException(f"stopped early: {report.error}")


@click.group()
def followers() -> None:
    """Who follows us; accept or reject pending follow requests."""


@followers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def followers_list(settings: Settings, as_json: bool) -> None:
    """Every follower and request, with its state."""

    async def work(session: AsyncSession, _actor: LocalActor) -> list[dict[str, Any]]:
        rows = (await session.execute(select(Follower).order_by(Follower.created_at))).scalars()
        return [{"actor": r.ap_actor_id, "state": r.state, "since": r.created_at} for r in rows]

    listed = _in_transaction(settings, work)

    def text() -> None:
        if not listed:
            click.echo("no followers yet")
        for row in listed:
            click.echo(f"{row['state']:<9} {row['actor']}")

    _emit(listed, as_json, text)


@followers.command("pending")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def followers_pending(settings: Settings, as_json: bool) -> None:
    """Follow requests waiting for an operator's decision."""

    async def work(session: AsyncSession, _actor: LocalActor) -> list[dict[str, Any]]:
        return [
            {"actor": f.ap_actor_id, "asked_at": f.created_at}
            for f in await pending_followers(session)
        ]

    listed = _in_transaction(settings, work)

    def text() -> None:
        if not listed:
            click.echo("no pending follow requests")
        for row in listed:
            click.echo(f"{row['asked_at']:%Y-%m-%d %H:%M}  {row['actor']}")

    _emit(listed, as_json, text)


def _decide(settings: Settings, iri: str, accept: bool) -> None:
    decide = accept_follower if accept else reject_follower

    async def work(session: AsyncSession, actor: LocalActor) -> None:
        await decide(session, actor, iri)
        verb = "accept" if accept else "reject"
        await audit_cli(session, f"{verb}_follower", f"followers {verb} {iri}")

    try:
        _in_transaction(settings, work)
    except (OutboxError, IllegalTransition) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{'accepted' if accept else 'rejected'} {iri}; the answer is queued for delivery")


@followers.command("accept")
@click.argument("iri")
@click.pass_obj
def followers_accept(settings: Settings, iri: str) -> None:
    """Accept the pending follow request of actor IRI."""
    _decide(settings, iri, accept=True)


@followers.command("reject")
@click.argument("iri")
@click.pass_obj
def followers_reject(settings: Settings, iri: str) -> None:
    """Reject the pending follow request of actor IRI."""
    _decide(settings, iri, accept=False)


@click.command()
@click.argument("iri")
@click.pass_obj
def follow(settings: Settings, iri: str) -> None:
    """Follow a market or calendar actor (its Accept starts the catalogue backfill)."""

    async def work(session: AsyncSession, actor: LocalActor) -> bool:
        sent = await send_follow(session, actor, iri) is not None
        await audit_cli(session, "follow", f"follow {iri}")
        return sent

    sent = _in_transaction(settings, work)
    click.echo(
        f"follow of {iri} queued for delivery" if sent else f"{iri} already accepted our follow"
    )


@click.command()
@click.argument("iri")
@click.pass_obj
def unfollow(settings: Settings, iri: str) -> None:
    """Undo our follow of actor IRI."""

    async def work(session: AsyncSession, actor: LocalActor) -> bool:
        sent = await send_undo_follow(session, actor, iri) is not None
        await audit_cli(session, "unfollow", f"unfollow {iri}")
        return sent

    sent = _in_transaction(settings, work)
    click.echo(f"undo of our follow of {iri} queued" if sent else f"we do not follow {iri}")


@click.group()
def deliveries() -> None:
    """The delivery queue: counts, dead deliveries, retries."""


@deliveries.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def deliveries_status(settings: Settings, as_json: bool) -> None:
    """How many deliveries are in each state."""

    async def work(session: AsyncSession, _actor: LocalActor) -> dict[str, int]:
        return await delivery_status(session)

    counts = _in_transaction(settings, work)

    def text() -> None:
        for state, count in counts.items():
            click.echo(f"{state:<10} {count}")

    _emit(counts, as_json, text)


@deliveries.command("failed")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def deliveries_failed(settings: Settings, limit: int, as_json: bool) -> None:
    """Dead deliveries, most recent first."""

    async def work(session: AsyncSession, _actor: LocalActor) -> list[dict[str, Any]]:
        return [asdict(d) for d in await failed_deliveries(session, limit=limit)]

    dead = _in_transaction(settings, work)

    def text() -> None:
        if not dead:
            click.echo("no dead deliveries")
        for d in dead:
            click.echo(
                f"#{d['id']:<6} {d['last_status'] or '-':<4} {d['inbox']}  {d['last_error'] or ''}"
            )

    _emit(dead, as_json, text)


@deliveries.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Retry every dead delivery.")
@click.pass_obj
def deliveries_retry(settings: Settings, ids: tuple[int, ...], retry_all: bool) -> None:
    """Put dead deliveries (by id, or --all) back in the queue, due now."""
    if not ids and not retry_all:
        raise click.UsageError(
            "name delivery ids (see `rose-cart deliveries failed`) or pass --all"
        )

    async def work(db: Database, _actor: LocalActor) -> int:
        chosen = list(ids)
        if retry_all:
            async with db.transaction() as session:
                query = select(OutboxDelivery.id).where(OutboxDelivery.status == DeliveryState.DEAD)
                chosen = list((await session.execute(query)).scalars())
        retried = 0
        chunks = [chosen[i : i + RETRY_CHUNK] for i in range(0, len(chosen), RETRY_CHUNK)]
        with click.progressbar(length=len(chosen), label="retrying", file=sys.stderr) as bar:
            for chunk in chunks:
                async with db.transaction() as session:
                    retried += await retry_deliveries(session, chunk, now=utcnow())
                    shown = " ".join(f"#{i}" for i in chunk[:20])
                    more = f" (+{len(chunk) - 20})" if len(chunk) > 20 else ""
                    await audit_cli(session, "retry_deliveries", f"deliveries retry {shown}{more}")
                bar.update(len(chunk))
        return retried

    retried = _run(settings, work)
    click.echo(f"{retried} dead deliveries queued again")


@click.command()
@click.pass_obj
def worker(settings: Settings) -> None:
    """Run the inbox and delivery workers only (no web); any number may run at once."""
    from service.federation import build_federation, follow_peers
    from service.logs import configure_logging
    from service.payments import Payments

    configure_logging(settings.log_level)

    async def work(db: Database, actor: LocalActor) -> None:
        payments = Payments.for_settings(settings)
        federation = build_federation(settings, db, actor, await payments.start())
        stop = federation.stop
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await follow_peers(db, actor, settings)
        federation.start_workers()
        click.echo("rose-cart worker running: inbox and delivery loops (Ctrl-C stops)")
        try:
            await stop.wait()
        finally:
            await federation.close()
            await payments.stop()

    _run(settings, work)
