"""catalogue shelves and search: a shelf position per item, its page's key, name words

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

import hashlib
import re

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Frozen copies of cart.catalog.indexing as of this revision (a migration must not
# change meaning when the application code does).
SORTABLE = sa.String(160).with_variant(sa.String(160, collation="C"), "postgresql")
WORD = sa.String(48).with_variant(sa.String(48, collation="C"), "postgresql")
_WORD = re.compile(r"\w+")


def _key(ap_id: str) -> str:
    return hashlib.sha256(ap_id.encode()).hexdigest()[:32]


def _sort_key(kind: str, name: str, start: object) -> str:
    folded = " ".join(name.casefold().split())
    if kind != "entry":
        return ("0" + folded)[:160]
    when = start.strftime("%Y-%m-%dT%H:%M:%S") if start is not None else "9999"  # type: ignore[attr-defined]
    return ("1" + when + " " + folded)[:160]


def upgrade() -> None:
    op.add_column(
        "catalog_items", sa.Column("page_key", sa.String(32), nullable=False, server_default="")
    )
    op.add_column(
        "catalog_items", sa.Column("sort_key", SORTABLE, nullable=False, server_default="")
    )
    op.create_index("ix_catalog_items_shelf", "catalog_items", ["page_key", "sort_key", "key"])
    op.create_table(
        "catalog_words",
        sa.Column("word", WORD, nullable=False),
        sa.Column("item_key", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_key"],
            ["catalog_items.key"],
            name=op.f("fk_catalog_words_item_key_catalog_items"),
        ),
        sa.PrimaryKeyConstraint("word", "item_key", name=op.f("pk_catalog_words")),
    )
    op.create_index("ix_catalog_words_item", "catalog_words", ["item_key", "word"])
    connection = op.get_bind()
    items = sa.table(
        "catalog_items",
        sa.column("ap_id", sa.String),
        sa.column("key", sa.String),
        sa.column("kind", sa.String),
        sa.column("name", sa.Text),
        sa.column("page_ap_id", sa.String),
        sa.column("start_time", sa.DateTime),
        sa.column("page_key", sa.String),
        sa.column("sort_key", sa.String),
    )
    words = sa.table(
        "catalog_words", sa.column("word", sa.String), sa.column("item_key", sa.String)
    )
    rows = connection.execute(
        sa.select(items.c.key, items.c.kind, items.c.name, items.c.page_ap_id, items.c.start_time)
    ).all()
    for key, kind, name, page, start in rows:
        connection.execute(
            items.update()
            .where(items.c.key == key)
            .values(page_key=_key(page) if page else "", sort_key=_sort_key(kind, name, start))
        )
        found = list(dict.fromkeys(w[:48] for w in _WORD.findall(name.casefold())))[:32]
        if found:
            connection.execute(words.insert(), [{"word": w, "item_key": key} for w in found])


def downgrade() -> None:
    op.drop_table("catalog_words")
    op.drop_index("ix_catalog_items_shelf", table_name="catalog_items")
    with op.batch_alter_table("catalog_items") as batch:
        batch.drop_column("sort_key")
        batch.drop_column("page_key")
