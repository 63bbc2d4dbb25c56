"""shared sign-in throttling and the agents' audit log: handoff_login_failures, handoff_audit

Revision ID: handoff_0003
Revises: handoff_0002
Create Date: 2026-12-02

Failed sign-ins move from each process's memory to a table every process reads (keys are hashes, never the
e-mail or address in clear); ``handoff_audit`` records sign-in, sign-out, transcript views and exports.
"""
import sqlalchemy as sa
from alembic import op

revision = "handoff_0003"
down_revision = "handoff_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_login_failure_account", "handoff_login_failures", ["account_key", "created_at"])
    op.create_index("ix_login_failure_client", "handoff_login_failures", ["client_key", "created_at"])
    op.create_table(
        "handoff_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("handoff_agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_handoff_audit_created_at", "handoff_audit", ["created_at"])
    op.create_index("ix_handoff_audit_agent_id", "handoff_audit", ["agent_id"])
    op.create_index("ix_handoff_audit_handoff_id", "handoff_audit", ["handoff_id"])


def downgrade() -> None:
    op.drop_table("handoff_audit")
    op.drop_table("handoff_login_failures")
