"""one conversation status (bot|queued|assigned|resolved|closed) and the append-only conversation event log

Revision ID: chat_0002
Revises: chat_0001
Create Date: 2026-12-02

``chat_conversations.mode`` (bot|queued|human|closed) becomes ``status``; ``human`` is now ``assigned``.
"""
import sqlalchemy as sa
from alembic import op

revision = "chat_0002"
down_revision = "chat_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_conversations") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="bot"))
    op.execute("UPDATE chat_conversations SET status = CASE mode WHEN 'human' THEN 'assigned' ELSE mode END")
    with op.batch_alter_table("chat_conversations") as batch:
        batch.drop_column("mode")
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64),
                  sa.ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(32), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_conversation_events_conv", "conversation_events", ["conversation_id", "id"])
    op.create_index("ix_conversation_events_kind_time", "conversation_events", ["kind", "created_at"])
    op.create_index("ix_conversation_events_team", "conversation_events", ["team"])


def downgrade() -> None:
    op.drop_table("conversation_events")
    with op.batch_alter_table("chat_conversations") as batch:
        batch.add_column(sa.Column("mode", sa.String(16), nullable=False, server_default="bot"))
    op.execute("UPDATE chat_conversations SET mode = CASE status WHEN 'assigned' THEN 'human' "
               "WHEN 'resolved' THEN 'bot' ELSE status END")
    with op.batch_alter_table("chat_conversations") as batch:
        batch.drop_column("status")
