"""Hot Core statements run as their compiled SQL on SQLite's own `sqlite3` connection.

Issue 18 allows "stdlib sqlite3 behind one small module": this is that module. A unit
function calls `execute(session, statement, params)` (or `first`, `scalar`, `rows`,
`executemany`) with a Core statement built once per process. On SQLite the statement is
compiled once per set of parameter names, with SQLAlchemy's own bind processors for
its types (so a datetime or a decimal is stored exactly as Core stores it), and then run
on the session's DBAPI connection, inside the unit's SAVEPOINT: SQLAlchemy's execution
context, result object and events are skipped (~50 µs a statement of checkout's, the
SQL itself ~5-40 µs). On every other dialect (PostgreSQL) it is `session.execute`, so a
unit function is the same on both.

`rows` gives plain tuples, unprocessed: a statement whose result columns would need a
type's result processor on SQLite (dates, decimals) runs as plain Core instead, its rows
processed as on PostgreSQL. `fields` (the read side: a page's one SELECT) gives records
read by column name, each value through the same result processor Core would use, so
they equal Core's, without Core's execution context and Row objects (with the reader
threads' Session made only on demand, store/readers.py, GET /cart in process went from
4.82M to 4.37M instructions under callgrind, docs/design.md "Units of work"). An
INSERT that would need a Python-side column default the caller did not give, and an IN
given an empty list, run as plain Core too (same outcome).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Processor = Callable[[Any], Any] | None
# Per statement (built once per process, as every caller's is), dialect and parameter names.
_PLAIN: dict[tuple[int, str, tuple[str, ...]], tuple[Any, _Compiled | None]] = {}
# IN lists of up to this many items keep their SQL per statement; a longer one (a cart's
# line ids are the shopper's to choose) is rendered each time, so the cache stays bounded.
CACHED_IN_LENGTH = 64


class _Compiled:
    """One statement's SQLite SQL, its parameters in order and their bind processors."""

    def __init__(self, statement: Any, keys: tuple[str, ...], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise _NeedsCore()
        columns = getattr(statement, "exported_columns", None)
        # Each result column's processor, as Core would run it (None: taken as it comes).
        self.results: tuple[tuple[int, _Processor], ...] = tuple(
            (index, processor)
            for index, column in enumerate(columns if columns is not None else ())
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
        )
        self.record: Callable[[Sequence[Any]], Any] | None = None
        if columns is not None:
            self.record = _record_type(tuple(columns.keys()))
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.processors: dict[str, _Processor] = {}
        self.expanding: set[str] = set()
        self.fixed: dict[str, Any] = {}  # values the statement carries (literals in it)
        for name in self.names:
            bind = compiled.binds[name]
            self.processors[name] = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.expanding:
                self.expanding.add(name)
            if not bind.required:
                self.fixed[name] = bind.effective_value
        self._expanded: dict[tuple[int, ...], str] = {}

    def value(self, name: str, params: Mapping[str, Any]) -> Any:
        process = self.processors[name]
        value = params[name] if name in params else self.fixed[name]
        return process(value) if process is not None else value

    def bound(self, params: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
        """(SQL, positional values); None when an IN list is empty (Core renders that)."""
        if not self.expanding:
            return self.sql, [self.value(name, params) for name in self.names]
        values: list[Any] = []
        lengths: list[int] = []
        for name in self.names:
            if name not in self.expanding:
                values.append(self.value(name, params))
                continue
            items = list(params[name] if name in params else self.fixed[name])
            if not items:
                return None
            process = self.processors[name]
            values.extend(process(v) if process is not None else v for v in items)
            lengths.append(len(items))
        key = tuple(lengths)
        sql = self._expanded.get(key)
        if sql is None:
            sql = self.sql
            for name, length in zip(
                (n for n in self.names if n in self.expanding), lengths, strict=True
            ):
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * length), 1)
            if max(lengths) <= CACHED_IN_LENGTH and len(self._expanded) < CACHED_IN_LENGTH:
                self._expanded[key] = sql
        return sql, values


def _record_type(names: tuple[str, ...]) -> Callable[[Sequence[Any]], Any] | None:
    """Rows as records read by name: a named tuple (made from a row in one call), or None
    when the names cannot be its fields (`fields` then makes namespaces)."""
    try:
        record = namedtuple("Record", names)  # type: ignore[misc]  # noqa: PYI024
    except ValueError:  # a name that is no identifier, a keyword, or said twice
        return None
    return record._make


class _NeedsCore(Exception):
    """This statement with these parameters has to run through SQLAlchemy."""


def _compiled(session: Session, statement: Any, keys: tuple[str, ...]) -> _Compiled | None:
    dialect = session.get_bind().dialect
    cache_key = (id(statement), dialect.name, keys)
    entry = _PLAIN.get(cache_key)
    if entry is not None and entry[0] is statement:
        return entry[1]
    found: _Compiled | None
    if dialect.name != "sqlite":
        found = None
    else:
        try:
            found = _Compiled(statement, keys, dialect)
        except _NeedsCore:
            found = None
    _PLAIN[cache_key] = (statement, found)  # the statement kept: its id() stays its own
    return found


def _cursor(session: Session) -> Any:
    """A DBAPI cursor on the session's connection: sqlite3's own on the writer thread,
    aiosqlite's adapted one (run under the greenlet) through `run_sync`.
    `session.connection()` opens the unit's transaction (its SAVEPOINT) if not yet open."""
    return session.connection().connection.cursor()


def rows(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Every row the statement gives (a SELECT, or DML with RETURNING), as tuples."""
    given = params or {}
    plain = _compiled(session, statement, tuple(given))
    # Rows that need processing run as Core: these tuples are the driver's, unprocessed.
    bound = plain.bound(given) if plain is not None and not plain.results else None
    if bound is None:
        return [tuple(row) for row in session.execute(statement, given)]
    cursor = _cursor(session)
    try:
        cursor.execute(*bound)
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


def fields(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> list[Any]:
    """Every row of a SELECT as a record of its columns by name (`row.price_amount`),
    values processed as Core's are. On PostgreSQL, and where `rows` would fall back to
    Core, the rows Core gives, as namespaces."""
    given = params or {}
    plain = _compiled(session, statement, tuple(given))
    bound = plain.bound(given) if plain is not None else None
    if plain is None or bound is None or plain.record is None:
        result = session.execute(statement, given)
        names = tuple(result.keys())
        return [SimpleNamespace(**dict(zip(names, row, strict=True))) for row in result]
    cursor = _cursor(session)
    try:
        cursor.execute(*bound)
        found = cursor.fetchall()
    finally:
        cursor.close()
    record, results = plain.record, plain.results
    if not results:
        return [record(row) for row in found]
    processed = []
    for row in found:
        values = list(row)
        for index, process in results:
            values[index] = process(values[index])  # type: ignore[misc]
        processed.append(record(values))
    return processed


def first(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> tuple[Any, ...] | None:
    found = rows(session, statement, params)
    return found[0] if found else None


def scalar(session: Session, statement: Executable, params: Mapping[str, Any]) -> Any:
    """The one value of the one row (an INSERT ... RETURNING id)."""
    (row,) = rows(session, statement, params)
    return row[0]


def execute(session: Session, statement: Executable, params: Mapping[str, Any]) -> int:
    """Run a statement that returns no rows; how many rows it changed."""
    plain = _compiled(session, statement, tuple(params))
    bound = plain.bound(params) if plain is not None else None
    if bound is None:
        return int(session.execute(statement, params).rowcount)  # type: ignore[attr-defined]
    cursor = _cursor(session)
    try:
        cursor.execute(*bound)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def executemany(session: Session, statement: Executable, many: Sequence[Mapping[str, Any]]) -> None:
    """One statement (an INSERT) for every parameter set; all sets have the same keys."""
    if not many:
        return
    plain = _compiled(session, statement, tuple(many[0]))
    if plain is None or plain.expanding:
        session.execute(statement, list(many))
        return
    cursor = _cursor(session)
    try:
        cursor.executemany(plain.sql, [_values(plain, params) for params in many])
    finally:
        cursor.close()


def _values(plain: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    return [plain.value(name, params) for name in plain.names]
