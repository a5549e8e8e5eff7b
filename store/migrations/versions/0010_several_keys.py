"""remote_actors keep every key an actor lists; followers remember earlier Follow ids

An actor may publish several keys (a publicKey array, FEP-521a Multikeys) and sign with
any of them; a follower may Undo any Follow it sent us, not only the last.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_actors = sa.table(
    "remote_actors",
    sa.column("ap_id", sa.String),
    sa.column("public_key_id", sa.String),
    sa.column("public_key_pem", sa.Text),
    sa.column("public_keys", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("remote_actors") as batch:
        batch.add_column(sa.Column("public_keys", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_actors.c.ap_id, _actors.c.public_key_id, _actors.c.public_key_pem).where(
            _actors.c.public_key_id.is_not(None), _actors.c.public_key_pem.is_not(None)
        )
    ).all()
    for ap_id, key_id, pem in rows:
        connection.execute(
            _actors.update().where(_actors.c.ap_id == ap_id).values(public_keys={key_id: pem})
        )
    with op.batch_alter_table("remote_actors") as batch:
        batch.drop_column("public_key_id")
        batch.drop_column("public_key_pem")
    with op.batch_alter_table("followers") as batch:
        batch.add_column(sa.Column("earlier_follow_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("followers") as batch:
        batch.drop_column("earlier_follow_ids")
    with op.batch_alter_table("remote_actors") as batch:
        batch.add_column(sa.Column("public_key_id", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("public_key_pem", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_actors.c.ap_id, _actors.c.public_keys).where(_actors.c.public_keys.is_not(None))
    ).all()
    for ap_id, keys in rows:
        for key_id, pem in (keys or {}).items():
            connection.execute(
                _actors.update()
                .where(_actors.c.ap_id == ap_id)
                .values(public_key_id=key_id, public_key_pem=pem)
            )
            break
    with op.batch_alter_table("remote_actors") as batch:
        batch.drop_column("public_keys")
