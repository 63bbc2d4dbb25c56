"""create the precomputed metric samples and their cursor

Revision ID: metrics_0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "metrics_0001"
down_revision = None
branch_labels = ("metrics",)
depends_on = "chat_0001"


def upgrade() -> None:
    op.create_table(
        "metric_samples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64),
                  sa.ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("team", sa.String(32), nullable=True),
        sa.Column("language", sa.String(5), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_bh", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("key", sa.String(120), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("due", sa.DateTime(), nullable=True),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("origin", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_metric_samples_at", "metric_samples", ["at", "metric"])
    op.create_index("ix_metric_samples_conv", "metric_samples", ["conversation_id"])
    op.create_table(
        "metric_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_event_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("metric_cursor")
    op.drop_index("ix_metric_samples_conv", "metric_samples")
    op.drop_index("ix_metric_samples_at", "metric_samples")
    op.drop_table("metric_samples")
