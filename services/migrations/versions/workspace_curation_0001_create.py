"""the NLU inbox's decisions: workspace_curation

Revision ID: workspace_curation_0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "workspace_curation_0001"
down_revision = None
branch_labels = ("workspace_curation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_curation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("lead_name", sa.String(120), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("language", sa.String(5), nullable=True),
        sa.Column("file", sa.String(300), nullable=True),
        sa.Column("commit", sa.String(40), nullable=True),
        sa.Column("branch", sa.String(200), nullable=True),
        sa.UniqueConstraint("event_id", name="uq_workspace_curation_event_id"),
    )
    op.create_index("ix_workspace_curation_created_at", "workspace_curation", ["created_at"])
    op.create_index("ix_workspace_curation_lead_id", "workspace_curation", ["lead_id"])


def downgrade() -> None:
    op.drop_table("workspace_curation")
