"""index conversation events by time: the metrics read a period of the log

Revision ID: chat_0003
Revises: chat_0002
Create Date: 2026-12-02
"""
from alembic import op

revision = "chat_0003"
down_revision = "chat_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversation_events_created_at", "conversation_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_events_created_at", "conversation_events")
