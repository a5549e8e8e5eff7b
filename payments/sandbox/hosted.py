"""The sandbox's hosted checkout page: plain HTML, no JavaScript, two buttons.

``GET /pay/{id}`` shows the amount and, while the checkout can still be paid (PENDING, or
FAILED: SumUp's hosted page lets the shopper retry), a form with Pay and Decline. ``POST``
checks the per-checkout form token, records the attempt, calls the ``return_url`` webhook,
and then sends the browser on: to ``redirect_url`` once paid, back to this page (which says
the payment was declined and offers another try) when the attempt failed. Both URLs were
checked against the sandbox's allowed origins when the checkout was made, and are checked
again here before use.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from payments.money import minor_unit
from payments.sandbox.ledger import LedgerError, SandboxCheckout
from payments.sandbox.state import Sandbox

_MAX_FORM_BYTES = 4096
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# Narrow screens (320 px): no fixed widths, long references wrap, the card loses its margin.
_STYLE = """
*,*::before,*::after{box-sizing:border-box}
body{font:1.05rem/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1a1a1a}
main{max-width:32rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:.5rem}
@media (max-width:34rem){main{margin:0;padding:1rem;border-radius:0}}
.banner{background:#fff4ce;border:1px solid #8a6d00;padding:.5rem .75rem;border-radius:.25rem}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;min-width:0;overflow-wrap:anywhere}
h1,p{overflow-wrap:anywhere}
.message{padding:.75rem;border-radius:.25rem;border:1px solid}
.failed{background:#fde7e9;border-color:#a4262c}.ok{background:#dff6dd;border-color:#107c10}
button{font:inherit;padding:.6rem 1.2rem;margin:.5rem .5rem 0 0;border-radius:.25rem;
border:2px solid #1a1a1a;cursor:pointer}
button.pay{background:#0b5cad;color:#fff;border-color:#0b5cad}
button:focus-visible,a:focus-visible{outline:3px solid #8a6d00;outline-offset:2px}
"""


def format_amount(checkout: SandboxCheckout) -> str:
    places = minor_unit(checkout.currency)
    return f"{checkout.amount:,.{places}f} {checkout.currency}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        '<p class="banner">SumUp sandbox: no real money moves.</p>'
        f"{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _back_link(checkout: SandboxCheckout, sandbox: Sandbox, text: str) -> str:
    if not checkout.redirect_url or not sandbox.allows(checkout.redirect_url):
        return ""
    return f'<p><a href="{escape(checkout.redirect_url)}">{escape(text)}</a></p>'


def render_page(checkout: SandboxCheckout, sandbox: Sandbox) -> HTMLResponse:
    amount = format_amount(checkout)
    details = (
        "<dl>"
        f"<dt>Amount</dt><dd>{escape(amount)}</dd>"
        + (f"<dt>For</dt><dd>{escape(checkout.description)}</dd>" if checkout.description else "")
        + f"<dt>Reference</dt><dd>{escape(checkout.reference)}</dd></dl>"
    )
    heading = f"<h1>Pay {escape(sandbox.merchant_name)}</h1>"
    if checkout.status == "PAID":
        body = (
            f'{heading}{details}<p class="message ok" role="status">Paid. Thank you.</p>'
            + _back_link(checkout, sandbox, "Return to the shop")
        )
        return _page(f"Paid {amount}", body)
    if checkout.status == "EXPIRED":
        body = (
            f"{heading}{details}"
            '<p class="message failed" role="alert">This payment link has expired. '
            "Nothing was charged.</p>" + _back_link(checkout, sandbox, "Return to the shop")
        )
        return _page("Payment link expired", body)
    notice = ""
    if checkout.status == "FAILED":
        notice = (
            '<p class="message failed" role="alert">The payment was declined. '
            "Nothing was charged. You can try again.</p>"
        )
    form = (
        # An empty action posts back to this very URL, wherever the sandbox is mounted.
        '<form method="post" action="">'
        f'<input type="hidden" name="token" value="{escape(checkout.form_token)}">'
        f'<button class="pay" type="submit" name="action" value="pay">Pay {escape(amount)}'
        "</button>"
        '<button type="submit" name="action" value="decline">Decline</button></form>'
    )
    back = _back_link(checkout, sandbox, "Cancel and return to the shop")
    body = f"{heading}{details}{notice}{form}{back}"
    return _page(f"Pay {amount}", body)


async def show(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        checkout = sandbox.ledger.get(request.path_params["checkout_id"])
    except LedgerError:
        return _page("Payment not found", "<h1>Payment not found</h1>", 404)
    return render_page(checkout, sandbox)


async def submit(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    checkout_id = request.path_params["checkout_id"]
    raw = await request.body()
    if len(raw) > _MAX_FORM_BYTES:
        return _page("Bad request", "<h1>Bad request</h1>", 413)
    form = parse_qs(raw.decode("utf-8", "replace"))
    action = (form.get("action") or [""])[0]
    token = (form.get("token") or [""])[0]
    if action not in ("pay", "decline"):
        return _page("Bad request", "<h1>Choose Pay or Decline</h1>", 400)
    try:
        checkout = sandbox.ledger.attempt(checkout_id, token, approve=action == "pay")
    except LedgerError as refusal:
        if refusal.kind == "not_found":
            return _page("Payment not found", "<h1>Payment not found</h1>", 404)
        return _page(
            "Form out of date",
            '<h1>This form is out of date</h1><p><a href="">Reload the payment page</a></p>',
            403,
        )
    if checkout is not None and checkout.return_url and sandbox.allows(checkout.return_url):
        await sandbox.webhooks.notify(
            checkout.return_url,
            checkout_id=checkout.id,
            reference=checkout.reference,
            status=checkout.status,
        )
    else:
        checkout = sandbox.ledger.get(checkout_id)
    back = checkout.redirect_url
    if checkout.status == "PAID" and back and sandbox.allows(back):
        return RedirectResponse(back, status_code=303, headers=_HEADERS)
    return RedirectResponse(str(request.url), status_code=303, headers=_HEADERS)
