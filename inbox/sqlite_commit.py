"""SQLite's group commit of inbox rows: one multi-row INSERT, in a unit on the one writer.

Through SQLAlchemy's ORM or Core, a batch of inserted rows cost several times more than
one stdlib statement; so a batch is one INSERT … ON CONFLICT DO NOTHING RETURNING
through the driver's own connection. It runs as a unit of work (store/units.py) on the
database's one writer thread, in the same COMMITs as every other unit (the inbox
worker's batches among them): with a second writer connection of its own, as it had
before, each waited for the other's write lock in SQLite's busy handler, and the inbox
took ~25 % fewer Follows a second while its worker ran (bench/federation). Values are
written in the formats SQLAlchemy reads back (timestamps as naive-UTC ISO text, see
store.base.UTCDateTime), and a test reads them back through the ORM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

COLUMNS = (
    "ap_id",
    "ap_actor_id",
    "activity_type",
    "object_type",
    "body",
    "status",
    "attempts",
    "received_at",
    "next_attempt_at",
)
# SQLite allows 32,766 bound parameters per statement.
MAX_ROWS = 32_766 // len(COLUMNS)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


def _insert(execute: Any, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    placeholders = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    # Only our own column names and "?" placeholders are joined in; values are bound.
    columns = ", ".join(COLUMNS)
    statement = (
        f"INSERT INTO inbox_activities ({columns}) VALUES "  # noqa: S608
        + ", ".join([placeholders] * len(rows))
        + " ON CONFLICT (ap_id) DO NOTHING RETURNING ap_id"
    )
    values = [_sqlite_value(row[column]) for row in rows for column in COLUMNS]
    return {ap_id for (ap_id,) in execute(statement, values).fetchall()}


def insert_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """A unit: store `rows`, skipping ap_ids already held; the ap_ids that were new."""
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a live pysqlite connection inside the unit
    new: set[str] = set()
    for start in range(0, len(rows), MAX_ROWS):
        new |= _insert(driver.execute, rows[start : start + MAX_ROWS])
    return new
