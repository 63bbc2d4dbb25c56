"""create the demo orders table

Revision ID: orders_0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "orders_0001"
down_revision = None
branch_labels = ("orders",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("number", sa.String(8), primary_key=True),
        sa.Column("customer_name", sa.String(120), nullable=False),
        sa.Column("customer_email", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("payment_method", sa.String(32), nullable=False),
        sa.Column("total_brl", sa.Numeric(10, 2), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("carrier", sa.String(32), nullable=True),
        sa.Column("tracking_code", sa.String(40), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("orders")
