"""Alembic environment: runs migrations against the URL the app configured (see services.db.migrate)."""

from __future__ import annotations

import contextlib
import importlib

from alembic import context
from sqlalchemy import pool

from services.db import MODEL_MODULES, Base, make_engine

for module in MODEL_MODULES:
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(module)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    shared = context.config.attributes.get("connection")
    if shared is not None:  # services.db.migrate holds an advisory lock on this connection
        context.configure(connection=shared, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url")
    connectable = make_engine(url) if url.startswith("sqlite") else None
    if connectable is None:
        from sqlalchemy import create_engine

        connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
