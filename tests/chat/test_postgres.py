"""The chat tables on PostgreSQL (production mode): migration, idempotency key, seq allocation under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.conversations import kinds
from services.settings import load_settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture()
def pg_client(tmp_path: Path) -> Iterator[TestClient]:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    name = f"lumo_chat_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = sqlalchemy.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:  # no server: say so instead of failing every other test
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({type(error).__name__})")
    settings = load_settings(database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", data_dir=tmp_path,
                             rasa_url="http://127.0.0.1:9", secret_key="pg-test-secret", redis_url="")
    try:
        with TestClient(create_app(settings)) as client:
            yield client
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
def test_postgres_seq_and_idempotency(pg_client: TestClient) -> None:
    chat = pg_client.app.state.chat

    async def scenario() -> tuple[list[int], int]:
        conv = await chat.create_conversation("pt")
        await chat.conversations.run(lambda tx: tx.set_status(conv.id, "queued", kinds.ESCALATED, "bot"))
        await asyncio.gather(*(chat.post_customer_message(conv.id, f"c{i}", f"id-{i % 8}") for i in range(16)),
                             *(chat.post_agent_message(conv.id, f"a{i}", "Ana") for i in range(8)))
        history = await chat.history(conv.id)
        return [m.seq for m in history], sum(1 for m in history if m.role == "customer")

    seqs, customers = pg_client.portal.call(scenario)
    assert customers == 8  # 16 sends, 8 distinct idempotency keys
    assert seqs == list(range(1, 17))
