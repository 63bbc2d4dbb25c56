"""The workspace_curation migration creates exactly the model's table, on its own branch, and downgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.db import Base, alembic_config, make_engine, migrate
from services.workspace import curation_store  # noqa: F401  (registers the table on Base)


def test_migration_matches_the_model_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diff if "workspace_curation" in repr(d)]
    assert mine == []
    command.downgrade(alembic_config(url), "workspace_curation@base")
    with engine.connect() as conn:
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
    assert "workspace_curation" not in tables and "workspace_audit" in tables
    engine.dispose()
