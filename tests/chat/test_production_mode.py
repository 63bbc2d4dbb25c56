"""Production mode: two app instances on one PostgreSQL database and one Redis deliver to each other's sockets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from services.conversations import kinds
from tests.chat.test_hub import REDIS_URL, _redis_available
from tests.web.live import LiveApp

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture()
def two_apps(tmp_path: Path) -> Iterator[tuple[LiveApp, LiveApp]]:
    import sqlalchemy

    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    name = f"lumo_chat_prod_{uuid.uuid4().hex[:10]}"
    try:
        admin = sqlalchemy.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({type(error).__name__})")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    first = LiveApp(tmp_path / "a", database_url=url, redis_url=REDIS_URL)
    second = LiveApp(tmp_path / "b", database_url=url, redis_url=REDIS_URL)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        first.stop()
        second.stop()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def frames_until(ws: Any, predicate: Any, limit: int = 30) -> dict:
    for _ in range(limit):
        frame = json.loads(ws.recv(10))
        if predicate(frame):
            return frame
    raise AssertionError("expected frame not received")


def test_agent_message_posted_on_one_instance_reaches_a_socket_on_the_other(two_apps: tuple[LiveApp, LiveApp]
                                                                            ) -> None:
    first, second = two_apps
    with connect(first.url.replace("http", "ws") + "/ws/chat", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "token": None, "lang": "pt"}))
        welcome = json.loads(ws.recv(10))
        json.loads(ws.recv(10))
        cid = welcome["conversation"]["id"]

        async def agent(app: Any) -> None:
            await app.state.conversations.run(
                lambda tx: tx.set_status(cid, "queued", kinds.ESCALATED, "bot", team="atendimento"))
            await app.state.chat.post_agent_message(cid, "Oi, aqui é a Bia (outra instância).", "Bia")

        second.call(agent)
        status = frames_until(ws, lambda f: f["type"] == "status")
        assert status["status"] == "queued"
        message = frames_until(ws, lambda f: f["type"] == "message")["message"]
        assert message["role"] == "agent" and message["author_name"] == "Bia" and message["seq"] == 1

        # And the other way round: the customer writes on instance one, an agent socket on two sees it.
        async def watch(app: Any) -> dict:
            async with app.state.hub.subscribe("agents") as events:
                ws.send(json.dumps({"type": "message", "text": "oi Bia!", "client_message_id": "p1"}))
                async for event in events:
                    if event.get("type") == "customer_message":
                        return event
            return {}

        event = second.call(watch)
        assert event["conversation_id"] == cid and event["message"]["text"] == "oi Bia!"
