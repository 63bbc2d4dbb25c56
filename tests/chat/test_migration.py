"""The chat Alembic branch creates exactly the tables the models declare, and can be rolled back."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.chat import models  # noqa: F401  (registers the chat tables on Base)
from services.db import Base, alembic_config, make_engine, migrate

CHAT_TABLES = {"chat_conversations", "chat_messages", "chat_contact_requests"}


def test_migration_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    chat_diff = [d for d in diff if CHAT_TABLES & {getattr(x, "name", "") for x in _objects(d)}]
    assert chat_diff == []
    command.downgrade(alembic_config(url), "chat@base")
    with engine.connect() as conn:
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
    assert not CHAT_TABLES & tables and "orders" in tables
    engine.dispose()


def _objects(diff: object) -> list[object]:
    """Tables/columns/indexes mentioned in one autogenerate diff entry (tuples or lists of tuples)."""
    items = diff if isinstance(diff, list) else [diff]
    found: list[object] = []
    for item in items:
        for part in item:
            table = getattr(part, "table", None)
            found.append(table if table is not None else part)
    return found
