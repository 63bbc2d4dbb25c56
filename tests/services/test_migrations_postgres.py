"""Migrations on the real PostgreSQL server: several processes migrating one empty database at once."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest

from scripts.stack import REPO_ROOT

pytestmark = pytest.mark.postgres
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture()
def database() -> str:
    try:
        psycopg.connect(ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"lumo_test_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield name
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_concurrent_migrations_do_not_race(database: str) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    code = f"from services.db import migrate; migrate({url!r})"
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert all(p.returncode == 0 for p in processes), "\n".join(errors)
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"orders", "kb_events", "alembic_version"} <= tables
