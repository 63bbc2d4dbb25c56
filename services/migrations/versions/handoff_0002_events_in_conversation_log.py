"""handoff events move to the conversation event log: drop handoff_events

Revision ID: handoff_0002
Revises: handoff_0001
Create Date: 2026-12-02

Rows of the old audit table are copied into ``conversation_events`` (kind mapped to the new catalogue) so an
upgraded installation keeps its history.
"""
import sqlalchemy as sa
from alembic import op

revision = "handoff_0002"
down_revision = "handoff_0001"
branch_labels = None
depends_on = "chat_0002"

KINDS = {"created": "escalated", "claimed": "agent_joined", "transferred": "transferred", "resolved": "resolved",
         "handed_back": "handed_back"}


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT e.handoff_id, e.kind, e.agent_id, e.data, e.created_at, h.conversation_id, h.team "
        "FROM handoff_events e JOIN handoff_handoffs h ON h.id = e.handoff_id ORDER BY e.id")).fetchall()
    events = sa.table("conversation_events", sa.column("conversation_id"), sa.column("kind"), sa.column("actor"),
                      sa.column("agent_id"), sa.column("team"), sa.column("handoff_id"), sa.column("status"),
                      sa.column("data", sa.JSON()), sa.column("created_at"))
    copied = [{"conversation_id": r.conversation_id, "kind": KINDS[r.kind], "actor": "agent" if r.agent_id else "bot",
               "agent_id": r.agent_id, "team": r.team, "handoff_id": r.handoff_id, "status": "unknown",
               "data": {"migrated_from": "handoff_events"}, "created_at": r.created_at}
              for r in rows if r.kind in KINDS]
    if copied:
        op.bulk_insert(events, copied)
    op.drop_table("handoff_events")


def downgrade() -> None:
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoff_handoffs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_handoff_events_handoff_id", "handoff_events", ["handoff_id"])
