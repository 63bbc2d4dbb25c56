"""daily rollup of the metric samples' counts, and indexes for pending bot answers and for medians

Revision ID: metrics_0002
Revises: metrics_0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "metrics_0002"
down_revision = "metrics_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_daily",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("key", sa.String(120), nullable=True),
        sa.Column("team", sa.String(32), nullable=True),
        sa.Column("language", sa.String(5), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("ix_metric_daily_day", "metric_daily", ["day", "metric"])
    op.create_index("ix_metric_samples_pending", "metric_samples", ["metric", "outcome", "due"])
    op.create_index("ix_metric_samples_values", "metric_samples", ["metric", "at"],
                    postgresql_include=["value", "value_bh", "team", "language", "intent", "agent_id", "channel"])


def downgrade() -> None:
    op.drop_index("ix_metric_samples_values", "metric_samples")
    op.drop_index("ix_metric_samples_pending", "metric_samples")
    op.drop_index("ix_metric_daily_day", "metric_daily")
    op.drop_table("metric_daily")
