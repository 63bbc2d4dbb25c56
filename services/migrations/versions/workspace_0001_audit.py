"""the lead workspace's audit log: workspace_audit

Revision ID: workspace_0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "workspace_0001"
down_revision = None
branch_labels = ("workspace",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("lead_name", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_workspace_audit_created_at", "workspace_audit", ["created_at"])
    op.create_index("ix_workspace_audit_lead_id", "workspace_audit", ["lead_id"])
    op.create_index("ix_workspace_audit_action", "workspace_audit", ["action"])


def downgrade() -> None:
    op.drop_table("workspace_audit")
