"""/admin/mail: every mail the shop sent or kept, newest first, and one mail's text.

With no SMTP server configured (the embedded default and the demo) this is where the
operator reads what a real shop would have sent; the same mails are in DATA_DIR/mail/.
"""

from __future__ import annotations

from starlette.routing import Route

from cart.admin.access import admin_page
from cart.exceptions import NotFound
from cart.web.paths import row_id
from cart.web.visit import Page, Visit
from mail.read import one_mail, recent_mail


@admin_page
async def mail_page(visit: Visit) -> Page:
    mails = await visit.session.run_sync(recent_mail)
    return Page("admin/mail.html", {"mails": mails}, title="Mail")


@admin_page
async def one_mail_page(visit: Visit) -> Page:
    found = await visit.session.run_sync(one_mail, visit.request.path_params["mail_id"])
    if found is None:
        raise NotFound("There is no such mail (it may have been purged).")
    return Page("admin/mail_one.html", {"mail": found}, title=found.subject or "Mail")


def mail_routes() -> list[Route]:
    return [
        Route("/admin/mail", mail_page, methods=["GET"]),
        Route(f"/admin/mail/{row_id('mail_id')}", one_mail_page, methods=["GET"]),
    ]
