"""Every table of every package, gathered in one metadata (for checks against migrations).

Each package declares its tables next to the code that uses them; importing the modules
below registers them on store.Base.metadata.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from store import Base

MODEL_MODULES = (
    "actor.keys",
    "actor.schemes",
    "actor.remote",
    "inbox.models",
    "outbox.models",
    "cart.catalog.models",
    "cart.basket.carts",
    "cart.catalog.backfill_jobs",
    "cart.identity.accounts",
    "cart.identity.sessions",
    "cart.identity.registrations",
    "cart.orders.models",
    "store.throttle",
)


def all_metadata() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
