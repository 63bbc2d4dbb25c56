"""create the knowledge-base events table

Revision ID: kb_events_0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "kb_events_0001"
down_revision = None
branch_labels = ("kb_events",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("query", sa.String(500), nullable=True),
        sa.Column("article_id", sa.String(120), nullable=True, index=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("language", sa.String(2), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("helped", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_events")
