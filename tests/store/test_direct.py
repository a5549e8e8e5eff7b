"""store/direct.py on both engines: what it cannot run itself falls back to Core, alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from actor.keys import LocalKey
from store import Database, direct, utcnow

_KEYS = LocalKey.metadata.tables["local_keys"]
_ADD = insert(_KEYS)
_KINDS_IN = select(_KEYS.c.kind).where(_KEYS.c.id.in_(bindparam("ids", expanding=True)))
_RETIRED = select(_KEYS.c.retired_at).where(_KEYS.c.kind == bindparam("kind"))
RETIRED_AT = datetime(2026, 11, 28, 12, 30, 15, 250000, tzinfo=UTC)


def _key(kind: str) -> dict[str, object]:
    return {
        "kind": kind,
        "public_pem": "x",
        "private_sealed": b"x",
        "created_at": utcnow(),
        "retired_at": RETIRED_AT,
    }


def _add(session: Session, kind: str) -> int:
    return direct.execute(session, _ADD, _key(kind))


def _add_then_fail(session: Session, kind: str) -> None:
    assert direct.execute(session, _ADD, _key(kind)) == 1
    raise LookupError(f"{kind} changed its mind")


def _kinds(session: Session) -> list[str]:
    return sorted(kind for (kind,) in direct.rows(session, select(_KEYS.c.kind)))


def _ids(session: Session) -> list[int]:
    return sorted(session.scalars(select(LocalKey.id)))


def _runs_directly(session: Session) -> bool:
    return direct._compiled(session, _ADD, tuple(_key("k"))) is not None


async def test_a_direct_insert_in_a_unit_that_raises_leaves_nothing(db: Database) -> None:
    if db.is_sqlite:  # the INSERT really runs on sqlite3's cursor, not through Core
        assert await db.read(_runs_directly)
    with pytest.raises(LookupError):
        await db.write(_add_then_fail, "dropped")
    assert await db.write(_add, "kept") == 1
    assert await db.read(_kinds) == ["kept"]


async def test_an_in_list_gives_its_rows_whether_empty_short_or_long(db: Database) -> None:
    for n in range(100):
        await db.write(_add, f"k{n}")
    ids = await db.read(_ids)

    def kinds_of(session: Session, chosen: list[int]) -> list[str]:
        return sorted(kind for (kind,) in direct.rows(session, _KINDS_IN, {"ids": chosen}))

    assert await db.read(kinds_of, []) == []  # Core renders the empty IN
    assert await db.read(kinds_of, ids[:2]) == ["k0", "k1"]
    assert await db.read(kinds_of, ids) == sorted(f"k{n}" for n in range(100))


async def test_a_result_that_needs_processing_comes_back_processed_on_both(
    db: Database,
) -> None:
    await db.write(_add, "old")
    # On SQLite a timestamp is stored as text: read directly it would come back a string.
    found = await db.read(lambda session: direct.first(session, _RETIRED, {"kind": "old"}))
    assert found == (RETIRED_AT,)


def test_in_lists_of_every_length_keep_a_bounded_number_of_sql_strings() -> None:
    plain = direct._Compiled(_KINDS_IN, ("ids",), sqlite.dialect())
    for length in range(1, 300):  # a shopper's cart can name any number of line ids
        bound = plain.bound({"ids": list(range(length))})
        assert bound is not None
        sql, values = bound
        assert sql.count("?") == length and values == list(range(length))
    assert len(plain._expanded) <= 64  # direct.CACHED_IN_LENGTH


_NAMED = select(
    _KEYS.c.id, _KEYS.c.kind.label("label"), _KEYS.c.retired_at, _KEYS.c.private_sealed
).order_by(_KEYS.c.id)


async def test_fields_are_read_by_name_and_equal_cores_rows_on_both(db: Database) -> None:
    for kind in ("a", "b"):
        await db.write(_add, kind)

    def both(session: Session) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        ours = direct.fields(session, _NAMED)
        core = session.execute(_NAMED).mappings().all()
        names = ("id", "label", "retired_at", "private_sealed")
        return [{n: getattr(r, n) for n in names} for r in ours], [dict(r) for r in core]

    ours, core = await db.read(both)
    assert ours == core
    assert [row["label"] for row in ours] == ["a", "b"]
    assert ours[0]["retired_at"] == RETIRED_AT  # processed: a datetime on SQLite too


def test_on_sqlite_fields_run_on_the_driver_with_cores_result_processors() -> None:
    plain = direct._Compiled(_NAMED, (), sqlite.dialect())
    assert plain.record is not None  # not a fall-back to Core
    assert [index for index, _ in plain.results] == [2]  # retired_at: text to datetime
