"""the shop's customer id on orders: a signed-in customer's latest order answers "where is my order?"

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "orders_0002"
down_revision = "orders_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(128), nullable=True))
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_customer_id", "orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("customer_id")
