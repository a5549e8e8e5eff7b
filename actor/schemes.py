"""Which signature scheme each peer origin accepted (double-knocking's memory).

The `httpx.Auth` never touches the database: it reads and writes a `SchemeMemory`,
a small in-memory map. Callers load it from the table before a batch of deliveries
(`load_memory`) and write back what was learned afterwards (`save_learned`), or use
`remembered_scheme` / `remember_scheme` for one origin; each runs inside a unit of work
(store/units.py). The table is an optimisation
shared between processes: losing a row costs one extra 401 on the next request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from actor.signature_types import Scheme
from store import Base, utcnow
from store.base import UTCDateTime


class PeerSignatureScheme(Base):
    __tablename__ = "peer_signature_schemes"

    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    scheme: Mapped[str] = mapped_column(String(16), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SchemeMemory:
    """Known schemes per origin, and which of them were learned since the last save."""

    def __init__(self, known: Mapping[str, Scheme] | None = None) -> None:
        self._known: dict[str, Scheme] = dict(known or {})
        self._learned: dict[str, Scheme] = {}

    def scheme_for(self, origin: str) -> Scheme | None:
        return self._known.get(origin)

    def learn(self, origin: str, scheme: Scheme) -> None:
        if self._known.get(origin) is not scheme:
            self._known[origin] = scheme
            self._learned[origin] = scheme

    def take_learned(self) -> dict[str, Scheme]:
        learned, self._learned = self._learned, {}
        return learned

    def relearn(self, learned: Mapping[str, Scheme]) -> None:
        """Put back what `take_learned` gave when it could not be saved, unless learned
        anew since."""
        for origin, scheme in learned.items():
            self._learned.setdefault(origin, scheme)


def _scheme(value: str) -> Scheme | None:
    try:
        return Scheme(value)
    except ValueError:
        return None


def remembered_scheme(session: Session, origin: str) -> Scheme | None:
    row = session.get(PeerSignatureScheme, origin)
    return _scheme(row.scheme) if row is not None else None


def remember_scheme(session: Session, origin: str, scheme: Scheme, now: datetime) -> None:
    """Insert or update one origin's scheme (concurrent writers: the last one wins)."""
    values = {"origin": origin, "scheme": scheme.value, "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(PeerSignatureScheme).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["origin"],
        set_={"scheme": statement.excluded.scheme, "updated_at": statement.excluded.updated_at},
    )
    session.execute(statement)


def load_memory(session: Session, origins: Iterable[str] | None = None) -> SchemeMemory:
    """All remembered schemes, or only those of `origins` (e.g. one delivery batch's)."""
    query = select(PeerSignatureScheme.origin, PeerSignatureScheme.scheme)
    if origins is not None:
        query = query.where(PeerSignatureScheme.origin.in_(list(origins)))
    known = {
        origin: scheme
        for origin, value in session.execute(query).all()
        if (scheme := _scheme(value)) is not None
    }
    return SchemeMemory(known)


def save_learned(session: Session, learned: Mapping[str, Scheme], now: datetime) -> int:
    """A unit: write what a memory learned (its `take_learned()`, taken where the memory
    is used: the event loop); returns how many origins."""
    for origin, scheme in sorted(learned.items()):  # one lock order for every worker
        remember_scheme(session, origin, scheme, now)
    return len(learned)
