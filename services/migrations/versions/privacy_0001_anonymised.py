"""which conversations were anonymised: privacy_anonymised

Revision ID: privacy_0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "privacy_0001"
down_revision = None
branch_labels = ("privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_anonymised",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("anonymised_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privacy_anonymised")
