"""the lead's review of conversations: review_tags, review_marks

Revision ID: workspace_review_0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "workspace_review_0001"
down_revision = None
branch_labels = ("workspace_review",)
depends_on = "chat_0001"  # both tables reference chat_conversations


def upgrade() -> None:
    op.create_table(
        "review_tags",
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("chat_conversations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_review_tags_tag", "review_tags", ["tag"])
    op.create_table(
        "review_marks",
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("chat_conversations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("lead_name", sa.String(120), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_marks")
    op.drop_table("review_tags")
