"""Fixtures for the handoff tests: a real app (real SQLite or PostgreSQL), agents, conversations, escalations.

Rasa is not started here (the end-to-end tests use the stack fixture); escalations carry the tracker events
the way ``action_request_human`` sends them, and ``RASA_URL`` points to a closed port, so the resume call
really fails and is recorded (the code path of "Rasa is down").
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from handoff.auth import hash_password
from handoff.models import Agent
from handoff.policy import DEFAULT_POLICY_FILE
from services.app import create_app
from services.settings import load_settings

INTERNAL = "handoff-test-internal-token"
PASSWORD = "s3nha-segura-123"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Monday 23 Nov 2026, 10:00 in São Paulo (13:00 UTC): inside business hours.
OPEN_TIME = datetime(2026, 11, 23, 13, 0, 0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_policy(tmp_path: Path, **overrides: Any) -> Path:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        node = raw
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    path = tmp_path / f"policy-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


class Env:
    """One running app plus helpers to drive it as the action server, customers and agents would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.app = client.app
        self.svc = self.app.state.handoff
        self.svc.clock = lambda: OPEN_TIME

    def agent(self, email: str, name: str, teams: list[str], role: str = "agent", online: bool = True) -> Agent:
        with self.app.state.db.session() as s:
            a = Agent(email=email, name=name, password_hash=hash_password(PASSWORD), role=role, teams=teams,
                      status="online" if online else "offline", last_seen_at=OPEN_TIME, active=True)
            s.add(a)
            s.flush()
            return a

    def login(self, email: str) -> TestClient:
        c = TestClient(self.app)
        # Share the running app's event loop: the hub's queues belong to one loop, as under uvicorn.
        c.portal = self.client.portal
        r = c.post("/api/handoff/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return c

    def conversation(self, lang: str = "pt") -> tuple[str, str]:
        r = self.client.post("/api/chat/session", json={"lang": lang})
        assert r.status_code == 200, r.text
        return r.json()["conversation"]["id"], r.json()["token"]

    def escalate(self, cid: str, reason: str = "customer_request", events: list[dict] | None = None,
                 **extra: Any) -> Any:
        body = {"conversation_id": cid, "reason": reason, "events": events or tracker_events(), **extra}
        return self.client.post("/api/handoff/escalations", json=body, headers={"X-Internal-Token": INTERNAL})


def user(text_: str, intent: str, confidence: float = 0.95, ts: float = 1_790_000_000.0, **parse: Any) -> dict:
    return {"event": "user", "text": text_, "timestamp": ts,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, **parse}}


def bot(text_: str, ts: float = 1_790_000_001.0, custom: dict | None = None) -> dict:
    return {"event": "bot", "text": text_, "timestamp": ts, "data": {"custom": custom} if custom else {}}


def tracker_events(topic: str = "order_status") -> list[dict]:
    """What a real tracker holds after: order question, KB answer, "didn't help", request for a person."""
    return [
        {"event": "action", "name": "action_session_start", "timestamp": 1_790_000_000.0},
        user("cade meu pedido 20481234", topic, 0.93,
             entities=[{"entity": "order_number", "value": "20481234"}]),
        {"event": "slot", "name": "order_number", "value": "20481234"},
        bot("Seu pedido está em separação.", custom={"kb": {"asked": "helped", "article_id": "rastrear-pedido"}}),
        user("/deny", "deny", 1.0),
        bot("Poxa, desculpe."),
        user("quero falar com um atendente", "request_human", 0.97),
    ]


@pytest.fixture()
def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Env]]:
    """Build an app on SQLite (default) or a given database URL, with an optional policy override."""
    clients: list[TestClient] = []

    def build(database_url: str | None = None, **policy: Any) -> Env:
        monkeypatch.setenv("INTERNAL_TOKEN", INTERNAL)
        monkeypatch.setenv("HANDOFF_POLICY", str(write_policy(tmp_path, **policy)))
        monkeypatch.delenv("RASA_TOKEN", raising=False)
        url = database_url or f"sqlite:///{tmp_path}/handoff-{uuid.uuid4().hex[:6]}.db"
        settings = load_settings(database_url=url, data_dir=tmp_path, rasa_url=f"http://127.0.0.1:{closed_port()}",
                                 rasa_timeout_seconds=2.0, redis_url="", app_env="embedded")
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return Env(client)

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture()
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


@contextmanager
def fresh_pg_schema(prefix: str) -> Iterator[str]:
    """A database URL on a new PostgreSQL schema of its own (tests never assume an empty database); dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # pragma: no cover - environment problem, reported clearly
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required: {error}")
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test, dropped afterwards."""
    with fresh_pg_schema("test_handoff") as url:
        yield url


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
