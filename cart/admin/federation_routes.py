"""Admin pages about federation: dashboard, peers, follow requests, followers, the
delivery queue and the inbox log, with the operator's actions on them."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from cart.admin import queries
from cart.admin.access import admin_action, admin_page, reauth_failed
from cart.admin.audit import recent_actions
from cart.admin.charts import bar_chart
from cart.admin.takings import takings_per_day
from cart.web.reauth import password_confirmed
from cart.web.visit import Page, Visit, redirect
from inbox import log as inbox_log
from outbox.exceptions import OutboxError
from outbox.followers import accept_follower, pending_followers, reject_follower
from outbox.queue import delivery_status, failed_deliveries, retry_deliveries
from store.exceptions import IllegalTransition
from vocab.numbers import parse_natural

DEAD_SHOWN = 100


def _text(form: FormData, name: str, limit: int = 2048) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@admin_page
async def dashboard(visit: Visit) -> Page:
    now = visit.now
    board = await visit.session.run_sync(queries.dashboard, now.date())
    charts = [
        bar_chart("Orders placed per day", board.orders_per_day),
        bar_chart("Deliveries queued per day", board.deliveries_per_day),
    ]
    context = {
        "board": board,
        "charts": charts,
        "takings": await visit.session.run_sync(takings_per_day, now.date()),
        "actions": await visit.session.run_sync(recent_actions),
    }
    return Page("admin/dashboard.html", context, title="Admin")


@admin_page
async def peers_page(visit: Visit) -> Page:
    configured = getattr(visit.request.app.state.settings, "peers", ()) or ()
    rows = await visit.session.run_sync(queries.peers, configured)
    return Page("admin/peers.html", {"peers": rows}, title="Peers")


@admin_page
async def follows_page(visit: Visit) -> Page:
    pending = await pending_followers(visit.session)
    everyone = await visit.session.run_sync(queries.followers)
    context = {"pending": pending, "followers": [f for f in everyone if f.state != "pending"]}
    return Page("admin/follows.html", context, title="Follow requests and followers")


async def _decide(visit: Visit, form: FormData, accept: bool) -> Response | Page:
    actor_iri = _text(form, "actor")
    if not accept and not password_confirmed(visit):
        return reauth_failed("/admin/follows")
    decide = accept_follower if accept else reject_follower
    try:
        await decide(visit.session, visit.request.app.state.actor, actor_iri)
    except (OutboxError, IllegalTransition):
        visit.flash.append(f"{actor_iri} has no pending follow request (already decided?).")
        return redirect(visit, "/admin/follows")
    verb = "Accepted" if accept else "Rejected"
    visit.flash.append(f"{verb} the follow request of {actor_iri}; the answer is on its way.")
    return redirect(visit, "/admin/follows")


@admin_action
async def accept_follow(visit: Visit, form: FormData) -> Response | Page:
    return await _decide(visit, form, accept=True)


@admin_action
async def reject_follow(visit: Visit, form: FormData) -> Response | Page:
    return await _decide(visit, form, accept=False)


@admin_page
async def deliveries_page(visit: Visit) -> Page:
    context = {
        "counts": await delivery_status(visit.session),
        "hosts": await visit.session.run_sync(queries.hosts),
        "dead": await failed_deliveries(visit.session, limit=DEAD_SHOWN),
        "dead_shown": DEAD_SHOWN,
        "now": visit.now,
    }
    return Page("admin/deliveries.html", context, title="Delivery queue")


@admin_action
async def retry_one(visit: Visit, form: FormData) -> Response:
    raw = _text(form, "delivery", 20)
    retried = 0
    delivery_id = parse_natural(raw)
    if delivery_id is not None:
        retried = await retry_deliveries(visit.session, [delivery_id], now=visit.now)
    visit.flash.append(
        f"Delivery #{raw} is queued again, due now."
        if retried
        else f"Delivery #{raw} is not dead any more; nothing to retry."
    )
    return redirect(visit, "/admin/deliveries")


@admin_action
async def retry_all(visit: Visit, form: FormData) -> Response | Page:
    if not password_confirmed(visit):
        return reauth_failed("/admin/deliveries")
    retried = await retry_deliveries(visit.session, "all", now=visit.now)
    visit.flash.append(f"{retried} dead deliveries are queued again, due now.")
    return redirect(visit, "/admin/deliveries")


@admin_page
async def inbox_page(visit: Visit) -> Page:
    wanted = visit.request.query_params.get("status", "")
    status = wanted if wanted in inbox_log.STATUSES else ""
    context = {
        "activities": await visit.session.run_sync(inbox_log.recent, status or None),
        "status": status,
        "statuses": list(inbox_log.STATUSES),
    }
    return Page("admin/inbox.html", context, title="Inbox log")


def federation_routes() -> list[Route]:
    return [
        Route("/admin", dashboard, methods=["GET"]),
        Route("/admin/peers", peers_page, methods=["GET"]),
        Route("/admin/follows", follows_page, methods=["GET"]),
        Route("/admin/follows/accept", accept_follow, methods=["POST"]),
        Route("/admin/follows/reject", reject_follow, methods=["POST"]),
        Route("/admin/deliveries", deliveries_page, methods=["GET"]),
        Route("/admin/deliveries/retry", retry_one, methods=["POST"]),
        Route("/admin/deliveries/retry-all", retry_all, methods=["POST"]),
        Route("/admin/inbox", inbox_page, methods=["GET"]),
    ]
