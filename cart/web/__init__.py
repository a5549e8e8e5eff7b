"""cart.web: the shopper's pages, forms and fragments, on top of the cart domain.

`cart_routes()` is what the app factory mounts. Everything the routes need at run
time is on `app.state`: `db` (store.Database), `settings` (read duck-typed: base_url,
secret(), peers) and, built on first use or by `configure_web(app.state)` in the
lifespan, `cart_web` (cookie signer, CSRF key, password hasher, templates).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from cart.web.account_routes import account_routes
from cart.web.account_settings_routes import account_settings_routes
from cart.web.cart_routes import shop_routes
from cart.web.config import configure_web
from cart.web.fragments import fragment_routes
from cart.web.image_routes import image_routes
from cart.web.my_data_routes import my_data_routes
from cart.web.password_routes import password_routes


def cart_routes() -> list[BaseRoute]:
    return [
        *shop_routes(),
        *account_routes(),
        *password_routes(),
        *account_settings_routes(),
        *my_data_routes(),
        *fragment_routes(),
        *image_routes(),
    ]


__all__ = ["cart_routes", "configure_web"]
