"""Database access for the services app: one SQLAlchemy 2 declarative base, engines, sessions, migrations.

Every module that stores data (orders, chat, handoff) declares its tables on :class:`Base` and ships an
Alembic migration branch in ``services/migrations/versions``; :func:`migrate` upgrades all branches at start-up,
so a fresh SQLite file or an empty PostgreSQL schema becomes usable without manual steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Modules whose tables live on Base. Alembic's env.py imports them for autogenerate; a module that does not
# exist yet is skipped, so each feature can add its models without touching the others.
MODEL_MODULES = ("services.orders.models", "services.kb_events.models", "services.conversations.models",
                 "services.chat.models", "handoff.models",
                 # the lead workspace: one module per area that stores something
                 "services.workspace.audit", "services.workspace.review_store", "services.workspace.curation_store",
                 "services.workspace.model_store", "services.workspace.gap_store",
                 "services.metrics.models", "services.privacy.models")


class Base(DeclarativeBase):
    """Declarative base shared by every table of the services app."""


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs to be safe under concurrent use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers proceed while a writer commits; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def utcnow() -> datetime:
    """Naive UTC, the convention of every table of the services app (SQLite has no time zones)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with ``Z``, the form every JSON answer uses."""
    return value.isoformat() + "Z" if value else None


class Database:
    """An engine plus a session factory; the app keeps one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    """Alembic configuration built in code, so no alembic.ini has to match the working directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


MIGRATION_LOCK_KEY = 7_340_021  # any constant: PostgreSQL advisory lock taken while migrating


def migrate(url: str) -> None:
    """Upgrade every migration branch to its head (idempotent).

    Several app processes may start at once against one PostgreSQL database; a transaction-scoped advisory
    lock makes them migrate one after the other instead of racing to create the same tables.
    """
    from alembic import command
    from sqlalchemy import pool, text

    config = alembic_config(url)
    if url.startswith("sqlite"):
        command.upgrade(config, "heads")
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
    finally:
        engine.dispose()
