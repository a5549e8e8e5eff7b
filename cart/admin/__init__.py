"""cart.admin: the operator's pages (peers, follows, deliveries, inbox log, orders, mail).

`admin_routes()` is what the app factory mounts next to `cart_routes()`. Every page
needs a logged-in account with role `operator` (see `cart.admin.access`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from cart.admin.exports import export_routes
from cart.admin.federation_routes import federation_routes
from cart.admin.mail_routes import mail_routes
from cart.admin.order_routes import order_routes
from cart.admin.packing import packing_routes


def admin_routes() -> list[BaseRoute]:
    return [
        *federation_routes(),
        *export_routes(),
        *packing_routes(),
        *order_routes(),
        *mail_routes(),
    ]


__all__ = ["admin_routes"]
