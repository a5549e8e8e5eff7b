"""store: where everything durable lives.

Owns the SQLAlchemy declarative ``Base`` that every package's tables derive from, the
async engine and session factory (SQLite under DATA_DIR by default, PostgreSQL via
asyncpg for scale-out), the units of work (`await db.read(fn, ...)` /
`await db.write(fn, ...)`: one plain sync function per unit, store/units.py), the
Alembic migrations that create every table, the loop every background worker runs in,
and the wake-ups that end its sleep when work is written. Imports nothing of ours.
"""

from store.base import Base, Clock, utcnow
from store.engine import Database, sqlite_url_for
from store.held import HeldAcrossWork, outside_units
from store.loops import repeat
from store.migrate import upgrade
from store.wakeups import wake

__all__ = [
    "Base",
    "Clock",
    "Database",
    "HeldAcrossWork",
    "outside_units",
    "repeat",
    "sqlite_url_for",
    "upgrade",
    "utcnow",
    "wake",
]
