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
    "cart.catalog_models",
    "cart.carts",
    "cart.backfill_jobs",
    "cart.accounts",
    "cart.sessions",
    "cart.order_models",
)


def all_metadata() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
