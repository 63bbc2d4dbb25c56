"""who the customer is: the host site's signed customer id (and name), and the browser's visitor id

Revision ID: chat_0004
Revises: chat_0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "chat_0004"
down_revision = "chat_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_conversations") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("customer_name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("visitor_id", sa.String(64), nullable=True))
    op.create_index("ix_chat_conversations_customer_id", "chat_conversations", ["customer_id"])
    op.create_index("ix_chat_conversations_visitor_id", "chat_conversations", ["visitor_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_conversations_visitor_id", "chat_conversations")
    op.drop_index("ix_chat_conversations_customer_id", "chat_conversations")
    with op.batch_alter_table("chat_conversations") as batch:
        batch.drop_column("visitor_id")
        batch.drop_column("customer_name")
        batch.drop_column("customer_id")
