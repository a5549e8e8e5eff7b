"""held stock, a running count: checkout reads a product's unanswered quantities from its row

Checkout subtracts from a market's stock figure what our own orders hold that the
market has not answered (cart.orders.stock). Summed at every checkout, that count read
every unanswered item of the product: a market that never answers made each checkout
of its products slower than the last (bench/checkout over HTTP: 2.41 ms of serve CPU an
order at 1,000 orders, 4.50 ms at 4,000).

On SQLite, `catalog_items.held_unanswered` now keeps that sum, maintained by triggers,
so that no code path that places, answers, cancels, expires, pays, refunds or deletes
an order can forget it. An item counts while its claim is `requested`, its order is
`pending` or `paid`, and the order was placed at or after the product's figure
(`coalesce(updated_at, received_at)`): the same rule as cart.orders.stock's query,
which tests/cart/test_held_stock.py checks the column against after every move. A new
figure recounts the product from scratch. Foreign keys (on for every connection) keep an
item from being written before its order or outliving it, and a product row from going
while anything names it, so orders need no trigger for their own INSERT or DELETE, and
a new product row starts at 0 (no order can name a product we never mirrored). The
statuses and the claim state are written out here as the strings they were when this
ran, as a migration must be.

PostgreSQL keeps the column at 0 and counts under its row locks at checkout, as before:
triggers there would take product rows in whatever order an order's items are updated,
against the checkout's IRI order.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28
"""

# ruff: noqa: S608 - the SQL below is assembled from this module's constants alone.
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

HOLDING = "('pending', 'paid')"
FIGURE = "coalesce(catalog_items.updated_at, catalog_items.received_at)"


def _counted(item: str) -> str:
    """SQL true when the order item row `item` (NEW or OLD) counts against its product."""
    return (
        f"{item}.claim_state = 'requested' AND EXISTS (SELECT 1 FROM orders"
        f" WHERE orders.id = {item}.order_id AND orders.status IN {HOLDING}"
        f" AND orders.created_at >= {FIGURE})"
    )


def _add(item: str, sign: str) -> str:
    return (
        f"UPDATE catalog_items SET held_unanswered = held_unanswered {sign} {item}.quantity"
        f" WHERE catalog_items.ap_id = {item}.item_ap_id AND {_counted(item)};"
    )


def _order_items(order: str) -> str:
    """SQL for what `order` (NEW or OLD) holds of the catalog_items row being updated, if
    it counts."""
    return (
        f"CASE WHEN {order}.status IN {HOLDING} AND {order}.created_at >= {FIGURE}"
        " THEN (SELECT coalesce(sum(quantity), 0) FROM order_items"
        f" WHERE order_items.order_id = {order}.id"
        " AND order_items.item_ap_id = catalog_items.ap_id"
        " AND order_items.claim_state = 'requested') ELSE 0 END"
    )


def _in_order(order: str) -> str:
    return (
        "catalog_items.ap_id IN (SELECT item_ap_id FROM order_items"
        f" WHERE order_items.order_id = {order}.id AND order_items.claim_state = 'requested')"
    )


RECOUNT = (
    "UPDATE catalog_items SET held_unanswered = (SELECT coalesce(sum(order_items.quantity), 0)"
    " FROM order_items JOIN orders ON orders.id = order_items.order_id"
    " WHERE order_items.item_ap_id = catalog_items.ap_id"
    " AND order_items.claim_state = 'requested'"
    f" AND orders.status IN {HOLDING} AND orders.created_at >= {FIGURE})"
)

TRIGGERS = {
    "held_item_inserted": f"AFTER INSERT ON order_items BEGIN {_add('NEW', '+')} END",
    "held_item_changed": (
        "AFTER UPDATE OF claim_state, quantity, item_ap_id, order_id ON order_items"
        f" BEGIN {_add('OLD', '-')} {_add('NEW', '+')} END"
    ),
    "held_item_deleted": f"AFTER DELETE ON order_items BEGIN {_add('OLD', '-')} END",
    "held_order_changed": (
        "AFTER UPDATE OF status, created_at ON orders"
        f" WHEN (OLD.status IN {HOLDING}) IS NOT (NEW.status IN {HOLDING})"
        " OR OLD.created_at IS NOT NEW.created_at"
        " BEGIN UPDATE catalog_items SET held_unanswered = held_unanswered"
        f" - {_order_items('OLD')} + {_order_items('NEW')}"
        f" WHERE {_in_order('NEW')}; END"
    ),
    "held_figure_changed": (
        "AFTER UPDATE OF updated_at, received_at ON catalog_items"
        " WHEN coalesce(NEW.updated_at, NEW.received_at)"
        " IS NOT coalesce(OLD.updated_at, OLD.received_at)"
        f" BEGIN {RECOUNT} WHERE catalog_items.ap_id = NEW.ap_id; END"
    ),
}


def upgrade() -> None:
    op.add_column(
        "catalog_items",
        sa.Column("held_unanswered", sa.Integer(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(RECOUNT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("catalog_items") as batch:
        batch.drop_column("held_unanswered")
