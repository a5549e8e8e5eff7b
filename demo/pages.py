"""HTML for people: the demo's Jinja templates, its stylesheet, money and CSRF helpers.

Plain server-rendered pages with no scripts and no inline styles (the stylesheet is a
file of its own), so they work under a strict Content-Security-Policy. The admin form's
CSRF defence is a double-submit token: a random cookie that the form must echo.
"""

from __future__ import annotations

import hmac
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

TEMPLATES = Path(__file__).parent / "templates"
CSRF_COOKIE = "demo_csrf"
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def money(minor: int, currency: str) -> str:
    amount = (Decimal(minor) / 100).quantize(Decimal("0.01"))
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def minor_units(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def amount_of(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


_env.filters["money"] = money


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status_code)


async def stylesheet(_request: Request) -> Response:
    return FileResponse(TEMPLATES / "demo.css", media_type="text/css")


def csrf_token(request: Request) -> str:
    """The token the page should carry: the visitor's cookie, or a new one to set."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


def with_csrf_cookie(response: Response, token: str) -> Response:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def csrf_ok(request: Request, submitted: object) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())
