"""the lead workspace's model registry and retrain jobs: workspace_model_versions, workspace_model_jobs

Revision ID: workspace_models_0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "workspace_models_0001"
down_revision = None
branch_labels = ("workspace_models",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_model_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(120), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("data_counts", sa.JSON(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.Column("verdict", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("promoted_at", sa.DateTime(), nullable=True),
        sa.Column("promoted_by_id", sa.Integer(), nullable=True),
        sa.Column("promoted_by_name", sa.String(120), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_workspace_model_versions_status", "workspace_model_versions", ["status"])
    op.create_table(
        "workspace_model_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_by_name", sa.String(120), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("log", sa.JSON(), nullable=True),
        sa.Column("stage_seconds", sa.JSON(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_workspace_model_jobs_state", "workspace_model_jobs", ["state"])


def downgrade() -> None:
    op.drop_table("workspace_model_jobs")
    op.drop_table("workspace_model_versions")
