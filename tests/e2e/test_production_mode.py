"""Production mode against the real local PostgreSQL and Redis: Rasa's tracker store and lock store, and the
services app's database, each in databases created for this test and dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from scripts.stack import Ports, Stack
from tests.stack import trained_model

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _server_available() -> bool:
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    if not _server_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    suffix = uuid.uuid4().hex[:10]
    names = (f"lumo_test_rasa_{suffix}", f"lumo_test_services_{suffix}")
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name}")
    try:
        yield names
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            for name in names:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def production_stack(databases, tmp_path_factory) -> Iterator[Stack]:
    rasa_db, services_db = databases
    stack = Stack(model_path=trained_model(), ports=Ports.free(), data_dir=tmp_path_factory.mktemp("prod"),
                  production=True, extra_env={
                      "RASA_DB_NAME": rasa_db,
                      "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{services_db}",
                      "REDIS_URL": "redis://127.0.0.1:6379/0",
                  })
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_conversation_is_stored_in_postgresql(production_stack: Stack, databases) -> None:
    sender = f"prod-{uuid.uuid4().hex}"
    reply = httpx.post(f"{production_stack.rasa_url}/webhooks/rest/webhook",
                       json={"sender": sender, "message": "qual o status do pedido 20481234?"}, timeout=60)
    assert reply.status_code == 200
    text = " ".join(m.get("text", "") for m in reply.json())
    if "20481234" not in text:
        reply = httpx.post(f"{production_stack.rasa_url}/webhooks/rest/webhook",
                           json={"sender": sender, "message": "20481234"}, timeout=60)
        text = " ".join(m.get("text", "") for m in reply.json())
    assert "a caminho" in text  # the action server reached the services app backed by PostgreSQL
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={databases[0]}") as conn:
        count = conn.execute("SELECT count(*) FROM events WHERE sender_id = %s", (sender,)).fetchone()[0]
    assert count > 3
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={databases[1]}") as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] >= 5


def test_services_health_reports_production(production_stack: Stack) -> None:
    assert httpx.get(f"{production_stack.services_url}/api/health", timeout=10).json()["app_env"] == "production"
